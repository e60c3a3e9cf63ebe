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
from audit.services import record_event
from policy.evaluation import CompiledPolicy, Outcome, active_policies, evaluate
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
    *, version_id: int, deployment_id: int | None, now: datetime
) -> set[tuple[str, str]]:
    """(policy slug, rule id) pairs excused for this version or deployment right now."""
    subject = Q(model_version_id=version_id)
    if deployment_id is not None:
        subject |= Q(deployment_id=deployment_id)
    rows = Waiver.objects.filter(
        subject, status=WaiverStatus.APPROVED, expires_at__gt=now
    ).values_list("policy__slug", "rule_id")
    return set(rows)


def _actor_label(actor: Any) -> str:
    if actor is None:
        return "system"
    if isinstance(actor, str):
        return actor
    return str(getattr(actor, "username", actor))[:200]


@transaction.atomic
def record_decision(
    *, actor: Any, facts: Facts, outcome: Outcome, source: str, now: datetime | None = None
) -> Decision:
    """Store the decision with its audit event: both commit, or neither does."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    decision = Decision.objects.create(
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
    record_event(
        actor=actor,
        action="decision.allowed" if allowed else "decision.denied",
        target=(
            "policy.decision",
            decision.pk,
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
    )
    return decision


def decide(
    facts: Facts, policies: list[CompiledPolicy] | None = None, now: datetime | None = None
) -> Outcome:
    now = now or timezone.now()
    waived = waived_rules(
        version_id=facts.version.pk,
        deployment_id=facts.deployment.pk if facts.deployment else None,
        now=now,
    )
    return evaluate(facts.input, active_policies() if policies is None else policies, waived, now)


def check_spec(*, actor: Any, spec: DeploymentSpec, source: str = "api") -> Decision:
    now = timezone.now()
    facts = facts_for_spec(spec, now)
    return record_decision(
        actor=actor, facts=facts, outcome=decide(facts, now=now), source=source, now=now
    )


def check_deployment(*, actor: Any, reference: str, source: str = "api") -> Decision:
    now = timezone.now()
    facts = facts_for_deployment(find_deployment(reference), now)
    return record_decision(
        actor=actor, facts=facts, outcome=decide(facts, now=now), source=source, now=now
    )
