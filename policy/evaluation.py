"""Compiling policy versions (cached per version) and evaluating them against one input.

The hot path compiles nothing: a published version's rules are compiled once per process
and cached under (version id, sha256). Finding the active versions is one query.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import rfc8785

from policy.engine import (
    CelCompileError,
    CelEvalError,
    CompiledExpression,
    CompiledMessage,
    engine,
    normalize,
)
from policy.models import Mode, Policy, PolicyVersion, Rule, Severity


@dataclass(frozen=True)
class CompiledRule:
    rule_id: str
    title: str
    severity: str
    expression: CompiledExpression
    message: CompiledMessage


@dataclass(frozen=True)
class CompiledPolicy:
    slug: str
    mode: str
    version_id: int
    number: int
    sha256: str
    params: dict[str, Any]
    rules: tuple[CompiledRule, ...]

    def with_mode(self, mode: str) -> CompiledPolicy:
        if mode == self.mode:
            return self
        return CompiledPolicy(
            self.slug, mode, self.version_id, self.number, self.sha256, self.params, self.rules
        )


@dataclass
class RuleError:
    rule_id: str
    field: str  # "expression" or "message"
    error: CelCompileError

    def __str__(self) -> str:
        return f"rule '{self.rule_id}' {self.field}: {self.error}"


class PolicyCompileError(Exception):
    def __init__(self, errors: list[RuleError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


def content_hash(
    *, slug: str, params: Mapping[str, Any], rules: Iterable[Mapping[str, Any]]
) -> str:
    """SHA-256 of the RFC 8785 canonical JSON of what a version decides with."""
    body = {
        "policy": slug,
        "params": normalize(dict(params)),
        "rules": sorted(
            (
                {
                    "rule_id": r["rule_id"],
                    "title": r.get("title", ""),
                    "expression": r["expression"],
                    "message": r["message"],
                    "severity": str(r["severity"]),
                }
                for r in rules
            ),
            key=lambda r: r["rule_id"],
        ),
    }
    return hashlib.sha256(rfc8785.dumps(body)).hexdigest()


def compile_rule_source(
    expression: str, message: str
) -> tuple[CompiledExpression, CompiledMessage]:
    """Compile one rule; ``PolicyCompileError`` names the field and position on failure."""
    eng = engine()
    errors: list[RuleError] = []
    compiled_expression = compiled_message = None
    try:
        compiled_expression = eng.compile_rule(expression)
    except CelCompileError as exc:
        errors.append(RuleError("", "expression", exc))
    try:
        compiled_message = eng.compile_message(message)
    except CelCompileError as exc:
        errors.append(RuleError("", "message", exc))
    if errors or compiled_expression is None or compiled_message is None:
        raise PolicyCompileError(errors)
    return compiled_expression, compiled_message


def compile_version(
    *,
    slug: str,
    mode: str,
    version_id: int,
    number: int,
    sha256: str,
    params: Any,
    rules: Sequence[Rule],
) -> CompiledPolicy:
    compiled: list[CompiledRule] = []
    errors: list[RuleError] = []
    for rule in rules:
        try:
            expression, message = compile_rule_source(rule.expression, rule.message)
        except PolicyCompileError as exc:
            for err in exc.errors:
                err.rule_id = rule.rule_id
            errors.extend(exc.errors)
            continue
        compiled.append(
            CompiledRule(rule.rule_id, rule.title, str(rule.severity), expression, message)
        )
    if errors:
        raise PolicyCompileError(errors)
    clean_params = normalize(params if isinstance(params, dict) else {})
    return CompiledPolicy(slug, mode, version_id, number, sha256, clean_params, tuple(compiled))


class _Cache:
    """Compiled versions by (version id, sha256). Published versions never change, and a
    draft's hash changes with its content, so entries are never stale."""

    MAX = 256

    def __init__(self) -> None:
        self._items: dict[tuple[int, str], CompiledPolicy] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[int, str]) -> CompiledPolicy | None:
        return self._items.get(key)

    def put(self, key: tuple[int, str], value: CompiledPolicy) -> None:
        with self._lock:
            if len(self._items) >= self.MAX:
                self._items.clear()
            self._items[key] = value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


cache = _Cache()


def compiled_version(version: PolicyVersion, mode: str | None = None) -> CompiledPolicy:
    """A version's compiled form (drafts are compiled too, for simulation)."""
    sha = version.sha256 or version_hash(version)
    key = (version.pk, sha)
    hit = cache.get(key)
    if hit is None:
        hit = compile_version(
            slug=version.policy.slug,
            mode=version.policy.mode,
            version_id=version.pk,
            number=version.number,
            sha256=sha,
            params=version.params,
            rules=list(version.rules.all()),
        )
        cache.put(key, hit)
    return hit.with_mode(mode or version.policy.mode)


def version_hash(version: PolicyVersion) -> str:
    rules = version.rules.values("rule_id", "title", "expression", "message", "severity")
    return content_hash(slug=version.policy.slug, params=version.params, rules=list(rules))


def active_policies() -> list[CompiledPolicy]:
    """Every policy's active version, compiled: one query when the cache is warm."""
    rows = list(
        Policy.objects.filter(active_version__isnull=False)
        .order_by("slug")
        .values_list(
            "slug", "mode", "active_version_id", "active_version__sha256", "active_version__number"
        )
    )
    out: list[CompiledPolicy] = []
    missing: list[int] = []
    for _slug, mode, version_id, sha, _number in rows:
        hit = cache.get((version_id, sha))
        if hit is None:
            missing.append(version_id)
        else:
            out.append(hit.with_mode(mode))
    if missing:
        versions = PolicyVersion.objects.select_related("policy").prefetch_related("rules")
        for version in versions.filter(pk__in=missing):
            out.append(compiled_version(version))
        out.sort(key=lambda p: p.slug)
    return out


@dataclass
class Outcome:
    verdict: str
    violations: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    waived: list[dict[str, Any]] = field(default_factory=list)
    audit_only: list[dict[str, Any]] = field(default_factory=list)
    evaluated: list[dict[str, Any]] = field(default_factory=list)
    evaluation_us: int = 0

    def as_response(self) -> dict[str, Any]:
        return {
            "decision": self.verdict,
            "violations": self.violations,
            "warnings": self.warnings,
            "waived": self.waived,
            "audit_only": self.audit_only,
            "evaluated": self.evaluated,
        }


def evaluate(
    document: Mapping[str, Any],
    policies: Sequence[CompiledPolicy],
    waived: frozenset[tuple[str, str]] | set[tuple[str, str]] = frozenset(),
    now: datetime | None = None,
) -> Outcome:
    """Evaluate every rule of every policy on ``document``. Fails closed: a rule that cannot
    be evaluated counts as failed, and its error is reported."""
    started = time.perf_counter_ns()
    eng = engine()
    base = dict(document)
    base["now"] = now or datetime.fromisoformat(str(document["now"]))
    outcome = Outcome("allow")
    for policy in policies:
        outcome.evaluated.append(
            {
                "policy": policy.slug,
                "version": policy.number,
                "sha256": policy.sha256,
                "mode": policy.mode,
            }
        )
        if not policy.rules:
            continue
        # One activation per parameter set; the binding converts each variable lazily on
        # first use and keeps a reference to the dict, so each policy gets its own.
        activation = eng.activation({**base, "params": policy.params})
        audit = policy.mode == Mode.AUDIT
        for rule in policy.rules:
            error: CelEvalError | None = None
            try:
                if eng.holds(rule.expression, activation):
                    continue
            except CelEvalError as exc:
                error = exc
            if error is None:
                message = eng.render(rule.message, activation)
                severity = rule.severity
            else:
                message = f"Rule could not be evaluated ({error.message}); failing closed."
                severity = Severity.DENY
            item: dict[str, Any] = {
                "policy": policy.slug,
                "policy_version": policy.number,
                "rule": rule.rule_id,
                "severity": str(severity),
                "message": message,
            }
            if error is not None:
                item["error"] = error.message
            if (policy.slug, rule.rule_id) in waived:
                outcome.waived.append(item)
            elif audit:
                outcome.audit_only.append(item)
            elif severity == Severity.DENY:
                outcome.violations.append(item)
            else:
                outcome.warnings.append(item)
    if outcome.violations:
        outcome.verdict = "deny"
    outcome.evaluation_us = (time.perf_counter_ns() - started) // 1000
    return outcome
