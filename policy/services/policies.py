"""Policies, their versions and rules. A published version never changes."""

from __future__ import annotations

import math
import re
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import User
from audit.services import record_event
from config.exceptions import Conflict, DomainError, NotAllowed
from config.json_depth import MAX_JSON_DEPTH, nested_deeper_than
from policy.evaluation import (
    PolicyCompileError,
    cache,
    compile_rule_source,
    compiled_version,
    version_hash,
)
from policy.models import Mode, Policy, PolicyVersion, Rule, Severity
from policy.roles import can_edit_policies

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
MAX_RULES_PER_VERSION = 100
MAX_PARAMS_BYTES = 64 * 1024
MAX_JSON_INT = 2**53 - 1


def _require_editor(actor: User) -> None:
    if not can_edit_policies(actor):
        raise NotAllowed("Only approvers and admins can edit policies.")


def _require_draft(version: PolicyVersion) -> None:
    if version.is_published:
        raise Conflict(
            f"{version} is published and cannot change; create a new draft version.",
            code="published",
        )


def _locked_draft(version: PolicyVersion) -> PolicyVersion:
    """``version`` read again under a row lock, refused unless still a draft.

    The caller's copy may predate a publish that committed since (two editors): checked on
    it, an edit landed in a frozen version, and saving it put the version back to a draft.
    version_publish takes the same lock."""
    version = PolicyVersion.objects.select_for_update().select_related("policy").get(pk=version.pk)
    _require_draft(version)
    return version


def _slug(value: str, field: str) -> str:
    value = (value or "").strip()
    if not _SLUG.match(value):
        raise DomainError(
            f"{field} must be lower-case letters, digits and dashes.",
            fields={field: ["Use lower-case letters, digits and dashes (max 64)."]},
        )
    return value


@transaction.atomic
def policy_create(
    *, actor: User, slug: str, name: str, description: str = "", mode: str = Mode.ENFORCE
) -> Policy:
    _require_editor(actor)
    slug = _slug(slug, "slug")
    if mode not in Mode.values:
        raise DomainError("Unknown mode.", fields={"mode": [f"One of {', '.join(Mode.values)}."]})
    if Policy.objects.filter(slug=slug).exists():
        raise Conflict(f"A policy {slug!r} exists.", fields={"slug": ["Already in use."]})
    if not (name or "").strip():
        raise DomainError("A policy needs a name.", fields={"name": ["Required."]})
    try:
        with transaction.atomic():
            policy = Policy.objects.create(
                slug=slug, name=name.strip(), description=description, mode=mode, created_by=actor
            )
    except IntegrityError as exc:  # a concurrent create of the same slug
        raise Conflict(f"A policy {slug!r} exists.", fields={"slug": ["Already in use."]}) from exc
    record_event(
        actor=actor,
        action="policy.created",
        target=policy,
        changes={"slug": slug, "name": policy.name, "mode": mode},
    )
    return policy


@transaction.atomic
def policy_update(
    *,
    actor: User,
    policy: Policy,
    name: str | None = None,
    description: str | None = None,
    mode: str | None = None,
) -> Policy:
    _require_editor(actor)
    changes: dict[str, Any] = {}
    if mode is not None and mode not in Mode.values:
        raise DomainError("Unknown mode.", fields={"mode": [f"One of {', '.join(Mode.values)}."]})
    for field, value in (("name", name), ("description", description), ("mode", mode)):
        if value is not None and getattr(policy, field) != value:
            changes[field] = [getattr(policy, field), value]
            setattr(policy, field, value)
    if not changes:
        return policy
    policy.save()
    record_event(actor=actor, action="policy.updated", target=policy, changes=changes)
    if "mode" in changes and policy.active_version_id:
        from policy.services.deployments import reevaluation_request

        reevaluation_request(reason=f"policy {policy.slug} mode changed to {policy.mode}")
    return policy


def _clean_params(params: Any) -> dict[str, Any]:
    import json

    if not isinstance(params, dict):
        raise DomainError(
            "Parameters must be a JSON object.", fields={"params": ["Must be a JSON object."]}
        )
    if nested_deeper_than(params, MAX_JSON_DEPTH):
        # Hashing and storing walk the value recursively: deeper was a RecursionError (500).
        raise DomainError(
            f"Parameters nest deeper than {MAX_JSON_DEPTH} levels.",
            fields={"params": [f"At most {MAX_JSON_DEPTH} levels deep."]},
        )
    if len(json.dumps(params)) > MAX_PARAMS_BYTES:
        raise DomainError("Parameters are too large.", fields={"params": ["At most 64 KiB."]})
    if not _storable_json(params):
        # The version's hash and its audit event use RFC 8785, which has no integers past
        # ±2**53; PostgreSQL's jsonb has no NUL character. Either was a 500.
        raise DomainError(
            "Parameters must hold integers within ±2**53, finite numbers and no NUL characters.",
            fields={
                "params": [
                    "Integers within ±9007199254740991, no NaN or Infinity, no NUL characters."
                ]
            },
        )
    return params


def _storable_json(value: Any) -> bool:
    if isinstance(value, bool) or value is None:
        return True
    if isinstance(value, float):
        # Python's json reads NaN and Infinity; JSON, RFC 8785 and jsonb have neither.
        return math.isfinite(value)
    if isinstance(value, str):
        return "\x00" not in value
    if isinstance(value, int):
        return abs(value) <= MAX_JSON_INT
    if isinstance(value, dict):
        return all(_storable_json(key) and _storable_json(item) for key, item in value.items())
    if isinstance(value, list):
        return all(_storable_json(item) for item in value)
    return True


@transaction.atomic
def version_create_draft(
    *, actor: User, policy: Policy, from_version: PolicyVersion | None = None, notes: str = ""
) -> PolicyVersion:
    """A new draft, copying the rules and parameters of ``from_version`` (default: active)."""
    _require_editor(actor)
    source = from_version or policy.active_version
    if source is not None and source.policy_id != policy.pk:
        raise DomainError("That version belongs to another policy.")
    Policy.objects.select_for_update().filter(pk=policy.pk).first()
    number = (policy.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = PolicyVersion.objects.create(
        policy=policy,
        number=number,
        params=dict(source.params) if source else {},
        notes=notes,
        created_by=actor,
    )
    if source is not None:
        Rule.objects.bulk_create(
            Rule(
                version=version,
                rule_id=r.rule_id,
                title=r.title,
                expression=r.expression,
                message=r.message,
                severity=r.severity,
                position=r.position,
            )
            for r in source.rules.all()
        )
    record_event(
        actor=actor,
        action="policy.version_created",
        target=version,
        changes={
            "policy": policy.slug,
            "number": number,
            "from": source.number if source else None,
        },
    )
    return version


@transaction.atomic
def version_update(
    *, actor: User, version: PolicyVersion, params: Any = None, notes: str | None = None
) -> PolicyVersion:
    _require_editor(actor)
    version = _locked_draft(version)
    changes: dict[str, Any] = {}
    if params is not None:
        params = _clean_params(params)
        if params != version.params:
            changes["params"] = [version.params, params]
            version.params = params
    if notes is not None and notes != version.notes:
        changes["notes"] = [version.notes, notes]
        version.notes = notes
    if changes:
        version.save()
        record_event(actor=actor, action="policy.version_updated", target=version, changes=changes)
    return version


def _compile_errors_as_fields(exc: PolicyCompileError) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for err in exc.errors:
        fields.setdefault(err.field, []).extend(str(issue) for issue in err.error.issues)
    return fields


def _validate_rule(
    *, rule_id: str, expression: str, message: str, severity: str
) -> tuple[str, str, str, str]:
    rule_id = _slug(rule_id, "rule_id")
    if severity not in Severity.values:
        raise DomainError(
            "Unknown severity.", fields={"severity": [f"One of {', '.join(Severity.values)}."]}
        )
    try:
        compile_rule_source(expression, message)
    except PolicyCompileError as exc:
        fields = _compile_errors_as_fields(exc)
        first = exc.errors[0]
        raise DomainError(
            f"Rule '{rule_id}' {first.field}: {first.error}", fields=fields, code="invalid_cel"
        ) from None
    return rule_id, expression, message, severity


@transaction.atomic
def rule_create(
    *,
    actor: User,
    version: PolicyVersion,
    rule_id: str,
    expression: str,
    message: str,
    severity: str = Severity.DENY,
    title: str = "",
    position: int | None = None,
) -> Rule:
    _require_editor(actor)
    version = _locked_draft(version)
    rule_id, expression, message, severity = _validate_rule(
        rule_id=rule_id, expression=expression, message=message, severity=severity
    )
    if version.rules.filter(rule_id=rule_id).exists():
        raise Conflict(f"Rule {rule_id!r} exists in this version.", fields={"rule_id": ["Taken."]})
    if version.rules.count() >= MAX_RULES_PER_VERSION:
        raise DomainError(f"A version holds at most {MAX_RULES_PER_VERSION} rules.")
    if position is None:
        position = (version.rules.aggregate(p=Max("position"))["p"] or 0) + 1
    rule = Rule.objects.create(
        version=version,
        rule_id=rule_id,
        title=title,
        expression=expression,
        message=message,
        severity=severity,
        position=position,
    )
    record_event(
        actor=actor,
        action="policy.rule_created",
        target=rule,
        changes={"version": str(version), "rule_id": rule_id, "expression": expression},
    )
    return rule


@transaction.atomic
def rule_update(
    *,
    actor: User,
    rule: Rule,
    expression: str | None = None,
    message: str | None = None,
    severity: str | None = None,
    title: str | None = None,
) -> Rule:
    _require_editor(actor)
    rule.version = _locked_draft(rule.version)
    new = {
        "expression": rule.expression if expression is None else expression,
        "message": rule.message if message is None else message,
        "severity": rule.severity if severity is None else severity,
    }
    _validate_rule(rule_id=rule.rule_id, **new)
    if title is not None:
        new["title"] = title
    changes = {k: [getattr(rule, k), v] for k, v in new.items() if getattr(rule, k) != v}
    if not changes:
        return rule
    for key, value in new.items():
        setattr(rule, key, value)
    rule.save()
    record_event(actor=actor, action="policy.rule_updated", target=rule, changes=changes)
    return rule


@transaction.atomic
def rule_delete(*, actor: User, rule: Rule) -> None:
    _require_editor(actor)
    rule.version = _locked_draft(rule.version)
    record_event(
        actor=actor,
        action="policy.rule_deleted",
        target=rule,
        changes={"version": str(rule.version), "rule_id": rule.rule_id},
    )
    rule.delete()


@transaction.atomic
def version_publish(
    *, actor: User, version: PolicyVersion, reevaluate: bool = True
) -> PolicyVersion:
    """Freeze a draft (content hash), make it active, and re-evaluate every deployment.

    Compiling every rule first means a syntax or type error refuses the publish (400, naming
    the rule and the position) and that the hot path never compiles."""
    _require_editor(actor)
    version = PolicyVersion.objects.select_for_update().select_related("policy").get(pk=version.pk)
    _require_draft(version)
    rules = list(version.rules.all())
    if not rules:
        raise DomainError("A version needs at least one rule to be published.")
    version.sha256 = version_hash(version)
    try:
        compiled_version(version)
    except PolicyCompileError as exc:
        fields = {
            f"rules.{e.rule_id}.{e.field}": [str(i) for i in e.error.issues] for e in exc.errors
        }
        raise DomainError(
            f"Cannot publish {version}: {exc.errors[0]}", fields=fields, code="invalid_cel"
        ) from None
    policy = version.policy
    previous = policy.active_version
    version.published_at = timezone.now()
    version.published_by = actor
    version.save()
    policy.active_version = version
    policy.save(update_fields=["active_version", "updated_at"])
    record_event(
        actor=actor,
        action="policy.published",
        target=version,
        changes={
            "policy": policy.slug,
            "number": version.number,
            "sha256": version.sha256,
            "previous": previous.number if previous else None,
            "rules": [r.rule_id for r in rules],
        },
    )
    if reevaluate:
        from policy.services.deployments import reevaluation_request

        reevaluation_request(reason=f"policy {policy.slug} v{version.number} published")
    return version


def clear_compiled_cache() -> None:
    cache.clear()
