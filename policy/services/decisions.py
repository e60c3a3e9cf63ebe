"""Decisions: gather facts, evaluate the active policies, store the decision and its audit
event in one transaction. The query count is constant (see tests/policy/test_queries.py)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.models import Outcome as AuditOutcome
from audit.services import RowInsert, record_event
from policy.evaluation import CompiledPolicy, Outcome, active_policies, evaluate
from policy.factcache import CachedWaiver, Generation, facts_cache
from policy.facts import (
    DeploymentSpec,
    Facts,
    facts_for_deployment,
    facts_for_spec,
    find_deployment,
)
from policy.models import Decision, Verdict, Waiver, WaiverStatus


def new_decision_id() -> str:
    return f"dec_{uuid.uuid4().hex}"


def waived_rules(
    *,
    version_id: int,
    deployment_id: int | None,
    now: datetime,
    generation: Generation | None = None,
) -> set[tuple[str, str]]:
    """(policy slug, rule id) pairs excused for this version or deployment right now."""
    if generation is not None:
        waivers = _approved_waivers(generation, now)
        if waivers is not None:
            return {
                (w.policy_slug, w.rule_id)
                for w in waivers
                if w.expires_at > now
                and (
                    w.model_version_id == version_id
                    or (deployment_id is not None and w.deployment_id == deployment_id)
                )
            }
    subject = Q(model_version_id=version_id)
    if deployment_id is not None:
        subject |= Q(deployment_id=deployment_id)
    rows = Waiver.objects.filter(
        subject, status=WaiverStatus.APPROVED, expires_at__gt=now
    ).values_list("policy__slug", "rule_id")
    return set(rows)


def _approved_waivers(generation: Generation, now: datetime) -> list[CachedWaiver] | None:
    """Every approved waiver not expired when the generation was filled (None when ``now`` is
    earlier than that: then the database is asked)."""
    if generation.waivers is None:
        rows = Waiver.objects.filter(status=WaiverStatus.APPROVED, expires_at__gt=now).values_list(
            "policy__slug", "rule_id", "model_version_id", "deployment_id", "expires_at"
        )
        generation.waivers_since = now
        generation.waivers = [CachedWaiver(*row) for row in rows]
    if generation.waivers_since is not None and now < generation.waivers_since:
        return None
    return generation.waivers


def cached_active_policies(generation: Generation) -> list[CompiledPolicy]:
    if generation.policies is None:
        generation.policies = active_policies()
    return generation.policies


def _actor_label(actor: Any) -> str:
    if actor is None:
        return "system"
    if isinstance(actor, str):
        return actor
    return str(getattr(actor, "username", actor))[:200]


def record_decision(
    *, actor: Any, facts: Facts, outcome: Outcome, source: str, now: datetime | None = None
) -> Decision:
    """Store the decision with its audit event: both commit, or neither does. On PostgreSQL
    one statement writes both (``record_event(insert=...)``), so no transaction of its own
    is needed (no BEGIN/COMMIT round trips); elsewhere, one transaction."""
    if transaction.get_connection().vendor == "postgresql":
        return _record_decision(actor=actor, facts=facts, outcome=outcome, source=source, now=now)
    with transaction.atomic():
        return _record_decision(actor=actor, facts=facts, outcome=outcome, source=source, now=now)


def _record_decision(
    *, actor: Any, facts: Facts, outcome: Outcome, source: str, now: datetime | None
) -> Decision:
    user = actor if getattr(actor, "is_authenticated", False) else None
    decision = Decision(
        decision_id=new_decision_id(),
        deployment=facts.deployment,
        model_slug=facts.input["model"]["slug"],
        version_label=facts.input["version"]["label"],
        verdict=outcome.verdict,
        input=facts.input,
        violations=outcome.violations,
        warnings=outcome.warnings,
        waived=outcome.waived,
        audit_only=outcome.audit_only,
        evaluated=outcome.evaluated,
        actor=user,
        actor_label=_actor_label(actor),
        source=source,
        created_at=now or timezone.now(),
        evaluation_us=outcome.evaluation_us,
    )
    allowed = outcome.verdict == Verdict.ALLOW
    # The decision's insert goes with its audit event (one statement on PostgreSQL).
    event = record_event(
        actor=actor,
        action="decision.allowed" if allowed else "decision.denied",
        target=(
            "policy.decision",
            None,  # the inserted decision's id
            f"{decision.decision_id} {decision.model_slug} {decision.version_label}",
        ),
        changes={
            "decision_id": decision.decision_id,
            "deployment": facts.deployment.slug if facts.deployment else None,
            "model": decision.model_slug,
            "version": decision.version_label,
            "environment": facts.input["deployment"]["environment"],
            "region": facts.input["region"]["code"],
            "violations": [f"{v['policy']}/{v['rule']}" for v in outcome.violations],
            "waived": [f"{v['policy']}/{v['rule']}" for v in outcome.waived],
            "policies": {e["policy"]: e["sha256"] for e in outcome.evaluated},
            "source": source,
        },
        outcome=AuditOutcome.SUCCESS if allowed else AuditOutcome.DENIED,
        insert=RowInsert.of(decision),
    )
    decision.pk = int(event.target_id)
    decision._state.adding = False
    decision._state.db = transaction.get_connection().alias
    return decision


def decide(
    facts: Facts,
    policies: list[CompiledPolicy] | None = None,
    now: datetime | None = None,
    generation: Generation | None = None,
) -> Outcome:
    now = now or timezone.now()
    waived = waived_rules(
        version_id=facts.version.pk,
        deployment_id=facts.deployment.pk if facts.deployment else None,
        now=now,
        generation=generation,
    )
    if policies is None:
        policies = active_policies() if generation is None else cached_active_policies(generation)
    return evaluate(facts.input, policies, waived, now)


def check_spec(
    *,
    actor: Any,
    spec: DeploymentSpec,
    source: str = "api",
    facts_token: tuple[int, ...] | None = None,
) -> Decision:
    """``facts_token``: the fact cache's token if the caller read it already, in this request
    (see ``policy.factcache.token_subquery_sql``)."""
    now = timezone.now()
    # One query for the token (unless given); the rows behind it come from the fact cache
    # when unchanged.
    generation = facts_cache.current(token=facts_token)
    facts = facts_for_spec(spec, now, generation)
    outcome = decide(facts, now=now, generation=generation)
    return record_decision(actor=actor, facts=facts, outcome=outcome, source=source, now=now)


def check_deployment(
    *,
    actor: Any,
    reference: str,
    source: str = "api",
    facts_token: tuple[int, ...] | None = None,
) -> Decision:
    now = timezone.now()
    generation = facts_cache.current(token=facts_token)
    facts = facts_for_deployment(find_deployment(reference), now)
    outcome = decide(facts, now=now, generation=generation)
    return record_decision(actor=actor, facts=facts, outcome=outcome, source=source, now=now)
