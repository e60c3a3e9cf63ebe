"""What-if: evaluate a draft version against every current deployment, before publishing."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from accounts.models import User
from audit.services import record_event
from config.exceptions import DomainError, NotAllowed
from policy.evaluation import PolicyCompileError, active_policies, compiled_version, evaluate
from policy.facts import deployment_queryset, facts_for_deployment
from policy.models import PolicyVersion, Waiver, WaiverStatus
from policy.roles import can_edit_policies

MAX_SIMULATED_DEPLOYMENTS = 5000


def simulate_version(*, actor: User, version: PolicyVersion) -> dict[str, Any]:
    """Compare today's verdicts with the verdicts if ``version`` were its policy's active
    version. Nothing is stored but an audit event; no deployment changes."""
    if not can_edit_policies(actor):
        raise NotAllowed("Only approvers and admins can simulate policies.")
    try:
        candidate = compiled_version(version)
    except PolicyCompileError as exc:
        raise DomainError(
            f"Cannot simulate {version}: {exc.errors[0]}", code="invalid_cel"
        ) from None
    current = active_policies()
    proposed = [p for p in current if p.slug != candidate.slug] + [candidate]
    proposed.sort(key=lambda p: p.slug)
    now = timezone.now()
    waivers: dict[tuple[str, Any], set[tuple[str, str]]] = {}
    for w in Waiver.objects.filter(status=WaiverStatus.APPROVED, expires_at__gt=now).select_related(
        "policy"
    ):
        key = ("d", w.deployment_id) if w.deployment_id else ("v", w.model_version_id)
        waivers.setdefault(key, set()).add((w.policy.slug, w.rule_id))
    results: list[dict[str, Any]] = []
    counts = {"deployments": 0, "newly_denied": 0, "newly_allowed": 0, "changed": 0}
    for deployment in deployment_queryset().order_by("slug")[:MAX_SIMULATED_DEPLOYMENTS]:
        facts = facts_for_deployment(deployment, now)
        waived = waivers.get(("d", deployment.pk), set()) | waivers.get(
            ("v", deployment.model_version_id), set()
        )
        before = evaluate(facts.input, current, waived, now)
        after = evaluate(facts.input, proposed, waived, now)
        counts["deployments"] += 1
        mine_before = {v["rule"] for v in before.violations if v["policy"] == candidate.slug}
        mine_after = [v for v in after.violations if v["policy"] == candidate.slug]
        if before.verdict == after.verdict and mine_before == {v["rule"] for v in mine_after}:
            continue
        if before.verdict != after.verdict:
            change = "newly_denied" if after.verdict == "deny" else "newly_allowed"
        else:
            change = "changed"
        counts[change] += 1
        results.append(
            {
                "deployment": deployment.slug,
                "model": facts.input["model"]["slug"],
                "version": facts.input["version"]["label"],
                "before": before.verdict,
                "after": after.verdict,
                "change": change,
                "violations": mine_after,
                "resolved": sorted(mine_before - {v["rule"] for v in mine_after}),
            }
        )
    record_event(
        actor=actor,
        action="policy.simulated",
        target=version,
        changes={"sha256": candidate.sha256, **counts},
    )
    return {
        "policy": candidate.slug,
        "version": candidate.number,
        "sha256": candidate.sha256,
        "mode": candidate.mode,
        **counts,
        "results": results,
    }
