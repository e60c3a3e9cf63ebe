"""The approval workflow of a model version, with separation of duties.

    draft ──submit──▶ submitted ──approve──▶ approved ──revoke──▶ revoked
      ▲                 │   │                    │
      └─(resubmit)── changes_requested          └──deprecate──▶ deprecated
                        │
                        └──reject──▶ rejected

A version whose approval has expired can be submitted again for renewal. Whoever requested
an approval never decides it, whatever their roles (``SeparationOfDuties``, HTTP 409).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from audit.services import record_event
from config.exceptions import Conflict, DomainError, NotAllowed, SeparationOfDuties
from registry import conditions as vocabulary
from registry import permissions
from registry.models import CONDITION_KEYS, Approval, Decision, ModelVersion, VersionStatus
from registry.signals import approval_changed

_CONDITION_VALUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,63}$")


# action → statuses it may start from
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "submit": (VersionStatus.DRAFT, VersionStatus.CHANGES_REQUESTED),
    "approve": (VersionStatus.SUBMITTED,),
    "reject": (VersionStatus.SUBMITTED,),
    "request_changes": (VersionStatus.SUBMITTED,),
    "revoke": (VersionStatus.APPROVED,),
    "deprecate": (VersionStatus.APPROVED,),
}


def _locked(version: ModelVersion) -> ModelVersion:
    return (
        ModelVersion.objects.select_for_update(of=("self",))
        .select_related("model", "current_approval")
        .get(pk=version.pk)
    )


def _refuse_transition(version: ModelVersion, action: str, extra: str = "") -> Conflict:
    allowed = ", ".join(ALLOWED_FROM[action])
    return Conflict(
        f"Cannot {action.replace('_', ' ')} {version}: it is {version.status}; "
        f"allowed only from {allowed}{extra}.",
        fields={"status": [f"Currently {version.status}."]},
        code="invalid_transition",
    )


def _check_transition(version: ModelVersion, action: str) -> None:
    if version.status in ALLOWED_FROM[action]:
        return
    if (
        action == "submit"
        and version.status == VersionStatus.APPROVED
        and not version.is_usable()
        and version.current_approval is not None
    ):
        return  # renewal of an expired approval
    extra = " (or approved with an expired approval)" if action == "submit" else ""
    raise _refuse_transition(version, action, extra)


def _pending_approval(version: ModelVersion) -> Approval:
    approval = (
        Approval.objects.select_for_update()
        .filter(version=version, decision=Decision.PENDING)
        .order_by("-requested_at")
        .first()
    )
    if approval is None:  # submitted without a request row: data from outside the services
        raise Conflict(f"{version} has no pending approval request.")
    return approval


def _check_decider(actor: User, version: ModelVersion, approval: Approval) -> None:
    # Separation of duties comes first and knows no exception (admins included).
    if approval.requested_by_id == actor.pk:
        raise SeparationOfDuties(
            f"Separation of duties: {actor.username} requested this approval and cannot "
            "decide it. Another approver must decide.",
            fields={"decided_by": ["The requester cannot decide their own request."]},
        )
    if not permissions.can_decide(actor, version.model):
        raise NotAllowed(f"{actor.username} may not decide approvals of {version.model.slug}.")


def clean_conditions(conditions: dict[str, Any] | None) -> dict[str, list[str]]:
    """Conditions as stored: known keys only, each value one the deployment facts can hold
    (``registry.conditions``), spelled as the vocabulary spells it. Every door (API, UI, seed)
    comes through here, so an approval cannot carry a condition no deployment could satisfy."""
    if conditions is None:
        return {}
    if not isinstance(conditions, dict):
        raise DomainError(
            "conditions must be an object of lists.", fields={"conditions": ["An object."]}
        )
    unknown = sorted(set(conditions) - set(CONDITION_KEYS))
    if unknown:
        raise DomainError(
            f"Unknown condition(s): {', '.join(unknown)}. Known: {', '.join(CONDITION_KEYS)}.",
            fields={"conditions": [f"Unknown: {', '.join(unknown)}"]},
        )
    clean: dict[str, list[str]] = {}
    errors: dict[str, list[str]] = {}
    for key in CONDITION_KEYS:
        values = conditions.get(key) or []
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise DomainError(
                f"conditions.{key} must be a list of strings.",
                fields={f"conditions.{key}": ["A list of strings."]},
            )
        values = [v.strip() for v in values if v.strip()]
        bad = [v for v in values if not _CONDITION_VALUE.match(v)]
        if bad:
            raise DomainError(
                f"conditions.{key}: invalid value(s) {', '.join(repr(b) for b in bad)}.",
                fields={f"conditions.{key}": ["Letters, digits, '-', '_', '.', ':' only."]},
            )
        try:
            values = vocabulary.canonical(key, values)
        except vocabulary.UnknownValues as exc:
            errors[f"conditions.{key}"] = [exc.message]
            continue
        if values:
            clean[key] = values
    if errors:
        raise DomainError(
            "; ".join(f"{field}: {messages[0]}" for field, messages in errors.items()),
            fields=errors,
        )
    return clean


@transaction.atomic
def version_submit(*, actor: User, version: ModelVersion, justification: str = "") -> Approval:
    version = _locked(version)
    if not permissions.can_edit(actor, version.model):
        raise NotAllowed("Only the owner team's model owners and admins submit versions.")
    _check_transition(version, "submit")
    before = version.status
    approval = Approval.objects.create(
        version=version, requested_by=actor, justification=(justification or "").strip()
    )
    version.status = VersionStatus.SUBMITTED
    version.current_approval = None
    version.save(update_fields=["status", "current_approval", "updated_at"])
    record_event(
        actor=actor,
        action="model_version.submitted",
        target=version,
        changes={
            "status": {"before": before, "after": version.status},
            "approval_id": approval.pk,
            "justification": approval.justification,
        },
    )
    return approval


@transaction.atomic
def version_approve(
    *,
    actor: User,
    version: ModelVersion,
    conditions: dict[str, Any] | None = None,
    expires_at: datetime | None = None,
    comment: str = "",
) -> Approval:
    version = _locked(version)
    _check_transition(version, "approve")
    approval = _pending_approval(version)
    _check_decider(actor, version, approval)
    clean = clean_conditions(conditions)
    if expires_at is not None and expires_at <= timezone.now():
        raise DomainError(
            "The approval expiry must be in the future.",
            fields={"expires_at": ["Must be in the future."]},
        )
    now = timezone.now()
    approval.decision = Decision.APPROVED
    approval.decided_by = actor
    approval.decided_at = now
    approval.comment = (comment or "").strip()
    approval.conditions = clean
    approval.expires_at = expires_at
    approval.save()
    version.status = VersionStatus.APPROVED
    version.current_approval = approval
    version.save(update_fields=["status", "current_approval", "updated_at"])
    record_event(
        actor=actor,
        action="model_version.approved",
        target=version,
        changes={
            "status": {"before": VersionStatus.SUBMITTED, "after": VersionStatus.APPROVED},
            "approval_id": approval.pk,
            "requested_by": approval.requested_by.username,
            "conditions": clean,
            "expires_at": expires_at,
            "comment": approval.comment,
        },
    )
    approval_changed.send(sender=ModelVersion, version=version, action="approved")
    return approval


def _decide_negative(
    *, actor: User, version: ModelVersion, comment: str, action: str, decision: str, status: str
) -> Approval:
    version = _locked(version)
    _check_transition(version, action)
    approval = _pending_approval(version)
    _check_decider(actor, version, approval)
    comment = (comment or "").strip()
    if not comment:
        raise DomainError(
            "Say why: a comment is required to reject or request changes.",
            fields={"comment": ["Required."]},
        )
    approval.decision = decision
    approval.decided_by = actor
    approval.decided_at = timezone.now()
    approval.comment = comment
    approval.save()
    version.status = status
    version.save(update_fields=["status", "updated_at"])
    record_event(
        actor=actor,
        action=f"model_version.{'rejected' if action == 'reject' else 'changes_requested'}",
        target=version,
        changes={
            "status": {"before": VersionStatus.SUBMITTED, "after": status},
            "approval_id": approval.pk,
            "requested_by": approval.requested_by.username,
            "comment": comment,
        },
    )
    return approval


@transaction.atomic
def version_reject(*, actor: User, version: ModelVersion, comment: str) -> Approval:
    return _decide_negative(
        actor=actor,
        version=version,
        comment=comment,
        action="reject",
        decision=Decision.REJECTED,
        status=VersionStatus.REJECTED,
    )


@transaction.atomic
def version_request_changes(*, actor: User, version: ModelVersion, comment: str) -> Approval:
    return _decide_negative(
        actor=actor,
        version=version,
        comment=comment,
        action="request_changes",
        decision=Decision.CHANGES_REQUESTED,
        status=VersionStatus.CHANGES_REQUESTED,
    )


@transaction.atomic
def version_revoke(*, actor: User, version: ModelVersion, reason: str) -> ModelVersion:
    """Withdraw an approval (security finding, licence change...). Approvers only."""
    version = _locked(version)
    _check_transition(version, "revoke")
    if not permissions.can_decide(actor, version.model):
        raise NotAllowed(f"{actor.username} may not revoke approvals of {version.model.slug}.")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("A revocation needs a reason.", fields={"reason": ["Required."]})
    approval = version.current_approval
    if approval is not None:
        approval.decision = Decision.REVOKED
        approval.revoked_by = actor
        approval.revoked_at = timezone.now()
        approval.revoke_reason = reason
        approval.save()
    version.status = VersionStatus.REVOKED
    version.current_approval = None
    version.save(update_fields=["status", "current_approval", "updated_at"])
    record_event(
        actor=actor,
        action="model_version.revoked",
        target=version,
        changes={
            "status": {"before": VersionStatus.APPROVED, "after": VersionStatus.REVOKED},
            "approval_id": approval.pk if approval else None,
            "reason": reason,
        },
    )
    approval_changed.send(sender=ModelVersion, version=version, action="revoked")
    return version


@transaction.atomic
def version_deprecate(*, actor: User, version: ModelVersion, reason: str = "") -> ModelVersion:
    """Retire an approved version (superseded). Its owners or an approver may do it."""
    version = _locked(version)
    _check_transition(version, "deprecate")
    if not (
        permissions.can_edit(actor, version.model) or permissions.can_decide(actor, version.model)
    ):
        raise NotAllowed("Only the model's owners and approvers deprecate versions.")
    version.status = VersionStatus.DEPRECATED
    approval_id = version.current_approval_id
    version.current_approval = None
    version.save(update_fields=["status", "current_approval", "updated_at"])
    record_event(
        actor=actor,
        action="model_version.deprecated",
        target=version,
        changes={
            "status": {"before": VersionStatus.APPROVED, "after": VersionStatus.DEPRECATED},
            "approval_id": approval_id,
            "reason": (reason or "").strip(),
        },
    )
    approval_changed.send(sender=ModelVersion, version=version, action="deprecated")
    return version


def expire_approvals(*, actor: Any, at: datetime | None = None) -> list[ModelVersion]:
    """Record ``model_version.approval_expired`` once for each approval that has expired.

    Expiry itself needs no job (``ModelVersion.is_usable`` compares ``expires_at``); this
    sweep only makes it visible in the audit trail. Idempotent and safe to run concurrently:
    each approval is claimed with a conditional UPDATE."""
    now = at or timezone.now()
    candidates = (
        ModelVersion.objects.filter(
            status=VersionStatus.APPROVED,
            current_approval__decision=Decision.APPROVED,
            current_approval__expires_at__lte=now,
            current_approval__expiry_recorded_at__isnull=True,
        )
        .select_related("model", "current_approval")
        .order_by("pk")
    )
    expired: list[ModelVersion] = []
    for version in candidates:
        approval = version.current_approval
        assert approval is not None  # filtered above
        with transaction.atomic():
            claimed = Approval.objects.filter(
                pk=approval.pk, expiry_recorded_at__isnull=True
            ).update(expiry_recorded_at=now)
            if not claimed:
                continue
            record_event(
                actor=actor,
                action="model_version.approval_expired",
                target=version,
                changes={
                    "approval_id": approval.pk,
                    "expires_at": approval.expires_at,
                    "decided_by": approval.decided_by_id,
                },
            )
        expired.append(version)
    return expired
