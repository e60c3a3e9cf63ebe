"""The approval workflow: transitions, separation of duties, who may decide, expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from guardian.shortcuts import assign_perm

from audit.models import AuditEvent
from config.exceptions import Conflict, DomainError, NotAllowed
from registry import services
from registry.models import Approval, Decision, ModelVersion, VersionStatus
from registry.services import SeparationOfDuties
from registry.tasks import expire_approvals as expire_task

pytestmark = pytest.mark.django_db


def _status(version: ModelVersion) -> str:
    version.refresh_from_db()
    return version.status


# --- separation of duties --------------------------------------------------------------------


def test_it_refuses_self_approval(submitted, owner, make_user):
    # Even when the requester also holds the approver role.
    owner.groups.add(*make_user("x", ["approver"]).groups.all())
    owner = type(owner).objects.get(pk=owner.pk)
    with pytest.raises(SeparationOfDuties) as exc:
        services.version_approve(actor=owner, version=submitted)
    assert exc.value.status_code == 409
    assert "Separation of duties" in exc.value.message
    assert _status(submitted) == VersionStatus.SUBMITTED
    assert not AuditEvent.objects.filter(action="model_version.approved").exists()


def test_it_refuses_self_approval_by_an_admin_who_requested(draft, make_user, team):
    admin = make_user("boss", ["admin"])
    services.version_submit(actor=admin, version=draft)
    for decide in (
        lambda: services.version_approve(actor=admin, version=draft),
        lambda: services.version_reject(actor=admin, version=draft, comment="no"),
        lambda: services.version_request_changes(actor=admin, version=draft, comment="fix"),
    ):
        with pytest.raises(SeparationOfDuties):
            decide()
    assert _status(draft) == VersionStatus.SUBMITTED


def test_another_approver_can_decide(submitted, approver):
    approval = services.version_approve(
        actor=approver,
        version=submitted,
        conditions={"jurisdictions": ["eu"], "data_classes": ["public", "internal"]},
        expires_at=timezone.now() + timedelta(days=30),
        comment="ok",
    )
    submitted.refresh_from_db()
    assert submitted.status == VersionStatus.APPROVED
    assert submitted.current_approval == approval
    assert approval.decided_by == approver
    assert approval.conditions == {"jurisdictions": ["EU"], "data_classes": ["public", "internal"]}
    assert submitted.is_usable()
    event = AuditEvent.objects.get(action="model_version.approved")
    assert event.changes["requested_by"] == "owner"


# --- transitions -----------------------------------------------------------------------------

ACTIONS = {
    "submit": lambda v, owner, approver: services.version_submit(actor=owner, version=v),
    "approve": lambda v, owner, approver: services.version_approve(actor=approver, version=v),
    "reject": lambda v, owner, approver: services.version_reject(
        actor=approver, version=v, comment="no"
    ),
    "request_changes": lambda v, owner, approver: services.version_request_changes(
        actor=approver, version=v, comment="fix"
    ),
    "revoke": lambda v, owner, approver: services.version_revoke(
        actor=approver, version=v, reason="finding"
    ),
    "deprecate": lambda v, owner, approver: services.version_deprecate(actor=owner, version=v),
}
RESULT = {
    "submit": VersionStatus.SUBMITTED,
    "approve": VersionStatus.APPROVED,
    "reject": VersionStatus.REJECTED,
    "request_changes": VersionStatus.CHANGES_REQUESTED,
    "revoke": VersionStatus.REVOKED,
    "deprecate": VersionStatus.DEPRECATED,
}


def _put_in(status: str, version: ModelVersion, owner, approver) -> None:
    """Bring a draft to ``status`` through the services."""
    path = {
        VersionStatus.DRAFT: [],
        VersionStatus.SUBMITTED: ["submit"],
        VersionStatus.APPROVED: ["submit", "approve"],
        VersionStatus.REJECTED: ["submit", "reject"],
        VersionStatus.CHANGES_REQUESTED: ["submit", "request_changes"],
        VersionStatus.REVOKED: ["submit", "approve", "revoke"],
        VersionStatus.DEPRECATED: ["submit", "approve", "deprecate"],
    }[status]
    for action in path:
        ACTIONS[action](version, owner, approver)


@pytest.mark.parametrize("status", list(VersionStatus.values))
@pytest.mark.parametrize("action", list(ACTIONS))
def test_every_transition_is_allowed_or_refused(status, action, draft, owner, approver):
    _put_in(status, draft, owner, approver)
    allowed = status in services.ALLOWED_FROM[action]
    if allowed:
        ACTIONS[action](draft, owner, approver)
        assert _status(draft) == RESULT[action]
    else:
        events = AuditEvent.objects.count()
        with pytest.raises(Conflict) as exc:
            ACTIONS[action](draft, owner, approver)
        assert exc.value.code == "invalid_transition"
        assert status in exc.value.message
        assert _status(draft) == status
        assert AuditEvent.objects.count() == events


def test_changes_requested_can_be_resubmitted_and_keeps_history(submitted, owner, approver):
    services.version_request_changes(actor=approver, version=submitted, comment="add evals")
    services.version_submit(actor=owner, version=submitted, justification="evals added")
    services.version_approve(actor=approver, version=submitted)
    decisions = list(
        Approval.objects.filter(version=submitted)
        .order_by("requested_at", "pk")
        .values_list("decision", flat=True)
    )
    assert decisions == [Decision.CHANGES_REQUESTED, Decision.APPROVED]


def test_reject_needs_a_comment_and_saves_nothing_without_it(submitted, approver):
    with pytest.raises(DomainError, match="comment"):
        services.version_reject(actor=approver, version=submitted, comment="  ")
    assert _status(submitted) == VersionStatus.SUBMITTED
    assert Approval.objects.get(version=submitted).decision == Decision.PENDING


def test_bad_conditions_are_refused_and_nothing_is_half_saved(submitted, approver):
    with pytest.raises(DomainError, match="Unknown condition"):
        services.version_approve(actor=approver, version=submitted, conditions={"planets": ["x"]})
    with pytest.raises(DomainError, match="in the future"):
        services.version_approve(
            actor=approver, version=submitted, expires_at=timezone.now() - timedelta(days=1)
        )
    assert _status(submitted) == VersionStatus.SUBMITTED
    assert Approval.objects.get(version=submitted).decision == Decision.PENDING
    assert not AuditEvent.objects.filter(action="model_version.approved").exists()


# What a deployment can never match, through every door (the API sends it as is).
UNMATCHABLE = {
    "environments": ["moon"],
    "regions": ["eu-west1"],
    "use_cases": ["nope"],
    "data_classes": ["secret"],
    "jurisdictions": ["XX"],
}


def test_condition_values_outside_the_catalogs_are_refused_naming_each(
    submitted, approver, policy_catalog
):
    with pytest.raises(DomainError) as exc:
        services.version_approve(actor=approver, version=submitted, conditions=UNMATCHABLE)
    fields = exc.value.fields
    assert set(fields) == {f"conditions.{key}" for key in UNMATCHABLE}
    for key, (value,) in UNMATCHABLE.items():
        assert value in fields[f"conditions.{key}"][0], key
        assert f"conditions.{key}" in exc.value.message and value in exc.value.message
    assert "Unknown environment: moon. Known: dev, staging, prod." in exc.value.message
    assert "Unknown region: eu-west1." in fields["conditions.regions"][0]
    assert _status(submitted) == VersionStatus.SUBMITTED
    assert Approval.objects.get(version=submitted).decision == Decision.PENDING
    assert not AuditEvent.objects.filter(action="model_version.approved").exists()


def test_one_unknown_value_among_known_ones_is_refused(submitted, approver, policy_catalog):
    for key, values, message in [
        ("regions", ["eu-west-1", "eu-west1"], "Unknown region: eu-west1."),
        (
            "use_cases",
            ["coding-assistant", "coding-asistant"],
            "Unknown use case: coding-asistant.",
        ),
        ("environments", ["prod", "production"], "Unknown environment: production."),
    ]:
        with pytest.raises(DomainError) as exc:
            services.version_approve(actor=approver, version=submitted, conditions={key: values})
        assert list(exc.value.fields) == [f"conditions.{key}"]
        assert exc.value.fields[f"conditions.{key}"][0].startswith(message)
    assert _status(submitted) == VersionStatus.SUBMITTED


def test_a_jurisdiction_given_as_a_region_says_so(submitted, approver, policy_catalog):
    with pytest.raises(DomainError, match="EU is a jurisdiction, not a region"):
        services.version_approve(actor=approver, version=submitted, conditions={"regions": ["EU"]})
    with pytest.raises(DomainError) as refused:
        services.version_approve(
            actor=approver, version=submitted, conditions={"regions": ["EU", "eu-west1"]}
        )
    assert "EU is a jurisdiction" in refused.value.message
    assert "Unknown region: eu-west1." in refused.value.message


def test_condition_values_are_stored_as_the_catalogs_spell_them(
    submitted, approver, policy_catalog
):
    approval = services.version_approve(
        actor=approver,
        version=submitted,
        conditions={
            "environments": ["PROD", "prod", "dev"],
            "regions": ["eu-west-1", "westeurope"],
            "jurisdictions": ["eu", "Uk"],
            "data_classes": ["Public"],
            "use_cases": ["coding-assistant"],
        },
    )
    assert approval.conditions == {
        "environments": ["prod", "dev"],
        "regions": ["eu-west-1", "westeurope"],
        "jurisdictions": ["EU", "UK"],
        "data_classes": ["public"],
        "use_cases": ["coding-assistant"],
    }


def test_a_region_or_use_case_must_exist_in_the_catalog_when_approving(submitted, approver):
    # No catalog rows at all: nothing a region or use case condition names exists.
    with pytest.raises(DomainError, match="Unknown use case: coding-assistant"):
        services.version_approve(
            actor=approver, version=submitted, conditions={"use_cases": ["coding-assistant"]}
        )


def test_revoke_clears_the_approval_in_force(approved, approver):
    services.version_revoke(actor=approver, version=approved, reason="CVE in tokenizer")
    approved.refresh_from_db()
    assert approved.current_approval is None and not approved.is_usable()
    approval = Approval.objects.get(version=approved)
    assert approval.decision == Decision.REVOKED and approval.revoked_by == approver


# --- who may do what -------------------------------------------------------------------------


def test_viewer_auditor_and_model_owner_cannot_decide(submitted, viewer, auditor, other_owner):
    for user in (viewer, auditor, other_owner):
        with pytest.raises(NotAllowed):
            services.version_approve(actor=user, version=submitted)


def test_owners_edit_only_their_teams_models(draft, other_owner, viewer):
    for user in (other_owner, viewer):
        with pytest.raises(NotAllowed):
            services.version_submit(actor=user, version=draft)
        with pytest.raises(NotAllowed):
            services.version_create(actor=user, model=draft.model, label="2.0")
        with pytest.raises(NotAllowed):
            services.model_update(actor=user, model=draft.model, name="Renamed")


def test_object_permission_scopes_approvers_to_their_models(submitted, approver, second_approver):
    # Once someone holds the object permission on this model, only holders decide it.
    assign_perm("registry.approve_aimodel", second_approver, submitted.model)
    with pytest.raises(NotAllowed):
        services.version_approve(actor=approver, version=submitted)
    services.version_approve(actor=second_approver, version=submitted)
    assert _status(submitted) == VersionStatus.APPROVED


def test_object_permission_through_a_group_counts(submitted, approver, second_approver):
    from django.contrib.auth.models import Group

    group = Group.objects.create(name="security-reviewers")
    group.user_set.add(second_approver)
    assign_perm("registry.approve_aimodel", group, submitted.model)
    with pytest.raises(NotAllowed):
        services.version_reject(actor=approver, version=submitted, comment="no")
    services.version_reject(actor=second_approver, version=submitted, comment="no")


def test_team_scoped_grant_applies_to_every_team_model(
    submitted, approver, second_approver, admin_user, team
):
    services.approver_scope_grant(actor=admin_user, grantee=approver, team=team)
    with pytest.raises(NotAllowed):
        services.version_approve(actor=second_approver, version=submitted)
    services.version_approve(actor=approver, version=submitted)
    assert AuditEvent.objects.filter(action="registry.approver_scope_granted").exists()


# --- expiry ----------------------------------------------------------------------------------


def test_an_expired_approval_stops_counting_without_anyone_touching_it(submitted, approver):
    expires = timezone.now() + timedelta(days=1)
    services.version_approve(actor=approver, version=submitted, expires_at=expires)
    submitted.refresh_from_db()
    assert submitted.is_usable()
    assert not submitted.is_usable(expires + timedelta(seconds=1))
    assert submitted.status == VersionStatus.APPROVED


def test_expire_approvals_records_each_expiry_once(submitted, approver):
    services.version_approve(
        actor=approver, version=submitted, expires_at=timezone.now() + timedelta(hours=1)
    )
    Approval.objects.filter(version=submitted).update(expires_at=timezone.now() - timedelta(1))
    first = services.expire_approvals(actor="test")
    second = services.expire_approvals(actor="test")
    assert [v.pk for v in first] == [submitted.pk] and second == []
    assert AuditEvent.objects.filter(action="model_version.approval_expired").count() == 1


def test_the_periodic_task_notices_expired_approvals(submitted, approver):
    services.version_approve(
        actor=approver, version=submitted, expires_at=timezone.now() + timedelta(hours=1)
    )
    Approval.objects.filter(version=submitted).update(expires_at=timezone.now() - timedelta(1))
    assert expire_task.run() == 1
    assert expire_task.run() == 0
    event = AuditEvent.objects.get(action="model_version.approval_expired")
    assert event.context["channel"] == "worker:registry.expire_approvals"


def test_an_expired_approval_can_be_renewed(submitted, approver, owner):
    services.version_approve(
        actor=approver, version=submitted, expires_at=timezone.now() + timedelta(hours=1)
    )
    Approval.objects.filter(version=submitted).update(expires_at=timezone.now() - timedelta(1))
    services.version_submit(actor=owner, version=submitted, justification="renewal")
    assert _status(submitted) == VersionStatus.SUBMITTED


def test_an_approval_in_force_cannot_be_resubmitted(approved, owner):
    with pytest.raises(Conflict):
        services.version_submit(actor=owner, version=approved)


def test_the_beat_schedule_includes_the_expiry_sweep():
    from config.celery import collect_beat_schedule

    assert (
        collect_beat_schedule()["registry.expire_approvals"]["task"] == "registry.expire_approvals"
    )
