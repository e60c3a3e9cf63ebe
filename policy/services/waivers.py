"""Waivers: one rule excused for one deployment or model version, approved by someone
other than the requester, until it expires."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import ADMIN, APPROVER, user_has_role
from audit.services import record_event
from config.exceptions import Conflict, DomainError, NotAllowed, SeparationOfDuties
from policy.models import Deployment, Policy, Rule, Waiver, WaiverStatus
from policy.roles import can_decide_waivers, can_request_waivers
from policy.services.deployments import can_edit_deployment
from registry import permissions as registry_permissions
from registry.models import ModelVersion

MAX_WAIVER_DAYS = 365


def _may_request_for(
    actor: User, deployment: Deployment | None, model_version: ModelVersion | None
) -> bool:
    """Approvers and admins ask for any deployment or version; a model owner only for what
    their team may change (another approver still decides)."""
    if user_has_role(actor, ADMIN, APPROVER):
        return True
    if deployment is not None:
        return can_edit_deployment(actor, deployment)
    return model_version is not None and registry_permissions.can_edit(actor, model_version.model)


@transaction.atomic
def waiver_request(
    *,
    actor: User,
    policy: Policy,
    rule_id: str,
    justification: str,
    expires_at: datetime,
    deployment: Deployment | None = None,
    model_version: ModelVersion | None = None,
) -> Waiver:
    if not can_request_waivers(actor):
        raise NotAllowed("Your role cannot request waivers.")
    if (deployment is None) == (model_version is None):
        raise DomainError(
            "A waiver names exactly one deployment or one model version.",
            fields={"deployment": ["Give a deployment or a model version, not both."]},
        )
    if not _may_request_for(actor, deployment, model_version):
        raise NotAllowed(
            "Model owners request waivers only for their own team's deployments and models."
        )
    if not Rule.objects.filter(version__policy=policy, rule_id=rule_id).exists():
        raise DomainError(
            f"Policy {policy.slug} has no rule {rule_id!r}.", fields={"rule_id": ["Unknown rule."]}
        )
    if not (justification or "").strip():
        raise DomainError(
            "Say why the rule should be waived.", fields={"justification": ["Required."]}
        )
    now = timezone.now()
    if expires_at <= now:
        raise DomainError("The expiry must be in the future.", fields={"expires_at": ["Past."]})
    if expires_at > now + timedelta(days=MAX_WAIVER_DAYS):
        raise DomainError(
            f"A waiver lasts at most {MAX_WAIVER_DAYS} days.",
            fields={"expires_at": [f"At most {MAX_WAIVER_DAYS} days ahead."]},
        )
    waiver = Waiver.objects.create(
        policy=policy,
        rule_id=rule_id,
        deployment=deployment,
        model_version=model_version,
        justification=justification.strip(),
        expires_at=expires_at,
        requested_by=actor,
    )
    record_event(
        actor=actor,
        action="waiver.requested",
        target=waiver,
        changes={
            "policy": policy.slug,
            "rule_id": rule_id,
            "deployment": deployment.slug if deployment else None,
            "model_version": str(model_version) if model_version else None,
            "expires_at": expires_at,
        },
    )
    return waiver


def _reevaluate_subject(actor: User, waiver: Waiver) -> None:
    from policy.services.deployments import deployment_evaluate, reevaluation_request

    if waiver.deployment_id is not None:
        deployment_evaluate(actor=actor, deployment=waiver.deployment, source="waiver")  # type: ignore[arg-type]
    elif waiver.model_version_id is not None:
        reevaluation_request(
            reason=f"waiver {waiver.pk} {waiver.status}", version_id=waiver.model_version_id
        )


@transaction.atomic
def waiver_decide(*, actor: User, waiver: Waiver, approve: bool, comment: str = "") -> Waiver:
    """Approve or reject. Separation of duties: never the requester, whatever their roles."""
    if not can_decide_waivers(actor):
        raise NotAllowed("Only approvers can decide waivers.")
    waiver = Waiver.objects.select_for_update().get(pk=waiver.pk)
    if waiver.requested_by_id == actor.pk:
        raise SeparationOfDuties(
            f"Separation of duties: {actor.username} requested this waiver and cannot decide "
            "it. Another approver must decide.",
            fields={"decided_by": ["The requester cannot decide their own request."]},
        )
    if waiver.status != WaiverStatus.PENDING:
        raise Conflict(f"This waiver is already {waiver.status}.")
    if approve and waiver.expires_at <= timezone.now():
        raise Conflict("This waiver request has already expired.")
    waiver.status = WaiverStatus.APPROVED if approve else WaiverStatus.REJECTED
    waiver.decided_by = actor
    waiver.decided_at = timezone.now()
    waiver.comment = comment
    waiver.save()
    record_event(
        actor=actor,
        action="waiver.approved" if approve else "waiver.rejected",
        target=waiver,
        changes={"comment": comment, "expires_at": waiver.expires_at},
    )
    if approve:
        _reevaluate_subject(actor, waiver)
    return waiver


@transaction.atomic
def waiver_revoke(*, actor: User, waiver: Waiver, comment: str = "") -> Waiver:
    if not can_decide_waivers(actor):
        raise NotAllowed("Only approvers can revoke waivers.")
    waiver = Waiver.objects.select_for_update().get(pk=waiver.pk)
    if waiver.status != WaiverStatus.APPROVED:
        raise Conflict(f"Only an approved waiver can be revoked; this one is {waiver.status}.")
    waiver.status = WaiverStatus.REVOKED
    waiver.comment = comment or waiver.comment
    waiver.save()
    record_event(actor=actor, action="waiver.revoked", target=waiver, changes={"comment": comment})
    _reevaluate_subject(actor, waiver)
    return waiver
