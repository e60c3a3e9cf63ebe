from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from config.exceptions import NotAllowed, SeparationOfDuties
from policy.models import Decision, Deployment, Policy, ReevaluationJob, Waiver
from policy.services import (
    deployment_update,
    reevaluation_run,
    sweep_expired,
    waiver_decide,
    waiver_request,
    waiver_revoke,
)
from tests.policy.factories import approved_version

pytestmark = pytest.mark.django_db


def _an_hour_passes(deployment):
    Deployment.objects.filter(pk=deployment.pk).update(
        last_evaluated_at=timezone.now() - timedelta(hours=1)
    )


@pytest.fixture
def eu_only(packs):
    return approved_version(slug="eu-only", conditions={"jurisdictions": ["EU"]})


def test_a_deployment_is_evaluated_on_create_and_update(eu_only, make_deployment, owner):
    deployment = make_deployment(eu_only, slug="bot", region="eu-west-1")
    assert deployment.status == "active"
    assert deployment.last_decision.verdict == "allow"
    deployment = deployment_update(actor=owner, deployment=deployment, region="us-east-1")
    assert deployment.status == "blocked" and deployment.blocked_at is not None
    assert deployment.last_decision.verdict == "deny"
    assert AuditEvent.objects.filter(
        action="deployment.blocked", target_id=str(deployment.pk)
    ).exists()
    assert Decision.objects.filter(deployment=deployment).count() == 2


def test_a_viewer_cannot_register_deployments(eu_only, bearer, viewer):
    body = {
        "slug": "x", "model": "eu-only", "environment": "dev", "region": "eu-west-1",
        "hosting": "self_hosted", "use_case": "coding-assistant",
    }  # fmt: skip
    assert (
        bearer(viewer, "policy:write")
        .post("/api/v1/policy/deployments/", body, format="json")
        .status_code
        == 403
    )


def test_deployments_over_the_api(eu_only, bearer, owner):
    client = bearer(owner, "policy:write", "policy:check")
    body = {
        "slug": "api-bot", "model": "eu-only", "environment": "prod", "region": "us-east-1",
        "hosting": "self_hosted", "use_case": "customer-support-chatbot", "data_classes": ["pii"],
    }  # fmt: skip
    response = client.post("/api/v1/policy/deployments/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "blocked"
    listed = client.get("/api/v1/policy/deployments/?status=blocked").json()
    assert [d["slug"] for d in listed["results"]] == ["api-bot"]
    response = client.patch(
        "/api/v1/policy/deployments/api-bot/", {"region": "eu-west-1"}, format="json"
    )
    assert response.json()["status"] == "active"


def test_a_numeric_slug_cannot_shadow_another_deployments_id(
    eu_only, make_deployment, bearer, owner, make_user
):
    theirs = make_deployment(eu_only, slug="team-bot", region="eu-west-1")
    client = bearer(make_user("intruder", ["model_owner"]), "policy:write", "policy:check")
    body = {
        "slug": str(theirs.pk), "model": "eu-only", "environment": "prod", "region": "us-east-1",
        "hosting": "self_hosted", "use_case": "customer-support-chatbot", "data_classes": ["pii"],
    }  # fmt: skip
    response = client.post("/api/v1/policy/deployments/", body, format="json")
    assert response.status_code == 400, response.json()
    assert "slug" in response.json()["error"]["fields"]
    assert not Deployment.objects.filter(slug=str(theirs.pk)).exists()
    checked = client.post("/api/v1/policy/check", {"deployment": str(theirs.pk)}, format="json")
    assert checked.json()["decision"] == "allow"
    assert client.get(f"/api/v1/policy/deployments/{theirs.pk}/").json()["slug"] == "team-bot"


def test_a_concurrent_create_of_the_same_slug_is_a_409(eu_only, bearer, owner, monkeypatch):
    from django.db.models import QuerySet

    client = bearer(owner, "policy:write")
    body = {
        "slug": "twice", "model": "eu-only", "environment": "prod", "region": "eu-west-1",
        "hosting": "self_hosted", "use_case": "coding-assistant",
    }  # fmt: skip
    assert client.post("/api/v1/policy/deployments/", body, format="json").status_code == 201
    # The other request's check ran before this one's insert: it saw no such slug.
    exists = QuerySet.exists
    monkeypatch.setattr(
        QuerySet, "exists", lambda qs: False if qs.model is Deployment else exists(qs)
    )
    response = client.post("/api/v1/policy/deployments/", body, format="json")
    assert response.status_code == 409, response.content
    assert "slug" in response.json()["error"]["fields"]
    assert Deployment.objects.filter(slug="twice").count() == 1


def _waiver(owner, deployment, rule="approval-region", days=30):
    return waiver_request(
        actor=owner,
        policy=Policy.objects.get(slug="model-approval"),
        rule_id=rule,
        deployment=deployment,
        justification="Migration to EU region in progress",
        expires_at=timezone.now() + timedelta(days=days),
    )


def test_a_waiver_needs_a_different_approver(eu_only, make_deployment, owner, make_user):
    deployment = make_deployment(eu_only, slug="bot", region="eu-west-2")  # UK: not EU
    assert deployment.status == "blocked"
    waiver = _waiver(owner, deployment)
    with pytest.raises(NotAllowed):
        waiver_decide(actor=owner, waiver=waiver, approve=True)  # not an approver
    self_requested = _waiver(make_user("boss", ["approver"]), deployment)
    for approve in (True, False):
        # Like the registry's approvals: a conflict with who asked, 409, whatever the roles.
        with pytest.raises(SeparationOfDuties, match="Separation of duties") as refused:
            waiver_decide(actor=self_requested.requested_by, waiver=self_requested, approve=approve)
        assert refused.value.status_code == 409
        assert refused.value.code == "separation_of_duties"
    self_requested.refresh_from_db()
    assert self_requested.status == "pending"


def test_deciding_your_own_waiver_over_the_api_is_409_like_the_registry(
    eu_only, make_deployment, bearer, make_user
):
    make_deployment(eu_only, slug="bot", region="eu-west-2")
    boss = make_user("boss", ["approver"])
    client = bearer(boss, "policy:write")
    body = {
        "policy": "model-approval", "rule_id": "approval-region", "deployment": "bot",
        "justification": "temporary", "expires_at": (timezone.now() + timedelta(days=7)).isoformat(),
    }  # fmt: skip
    created = client.post("/api/v1/policy/waivers/", body, format="json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    for action in ("approve", "reject"):
        response = client.post(f"/api/v1/policy/waivers/{pk}/{action}", {}, format="json")
        assert response.status_code == 409, response.json()
        assert response.json()["error"]["code"] == "separation_of_duties"
    assert Waiver.objects.get(pk=pk).status == "pending"


def test_an_approved_waiver_excuses_its_rule_until_it_expires(
    eu_only, make_deployment, owner, approver
):
    deployment = make_deployment(eu_only, slug="bot", region="eu-west-2")
    waiver = _waiver(owner, deployment)
    waiver_decide(actor=approver, waiver=waiver, approve=True)
    deployment.refresh_from_db()
    assert deployment.status == "active"
    decision = deployment.last_decision
    assert [w["rule"] for w in decision.waived] == ["approval-region"]
    # An hour later the waiver lapses: the periodic sweep re-evaluates, nobody has to act.
    _an_hour_passes(deployment)
    Waiver.objects.filter(pk=waiver.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    job = sweep_expired()
    assert job is not None and job.newly_blocked == 1
    deployment.refresh_from_db()
    assert deployment.status == "blocked"
    assert sweep_expired() is None  # nothing changed since


def test_revoking_a_waiver_blocks_again(eu_only, make_deployment, owner, approver):
    deployment = make_deployment(eu_only, slug="bot", region="eu-west-2")
    waiver = waiver_decide(actor=approver, waiver=_waiver(owner, deployment), approve=True)
    waiver_revoke(actor=approver, waiver=waiver)
    deployment.refresh_from_db()
    assert deployment.status == "blocked"


def test_waivers_over_the_api(eu_only, make_deployment, bearer, owner, approver):
    make_deployment(eu_only, slug="bot", region="eu-west-2")
    requester = bearer(owner, "policy:write")
    body = {
        "policy": "model-approval", "rule_id": "approval-region", "deployment": "bot",
        "justification": "temporary", "expires_at": (timezone.now() + timedelta(days=7)).isoformat(),
    }  # fmt: skip
    created = requester.post("/api/v1/policy/waivers/", body, format="json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert (
        requester.post(f"/api/v1/policy/waivers/{pk}/approve", {}, format="json").status_code == 403
    )
    approved = bearer(approver, "policy:write").post(
        f"/api/v1/policy/waivers/{pk}/approve", {"comment": "ok"}, format="json"
    )
    assert approved.status_code == 200
    assert approved.json()["status"] == "approved" and approved.json()["in_force"] is True
    bad = dict(body, rule_id="no-such-rule")
    assert requester.post("/api/v1/policy/waivers/", bad, format="json").status_code == 400


def test_an_approval_that_expires_blocks_its_deployments_at_the_next_sweep(
    eu_only, make_deployment
):
    deployment = make_deployment(eu_only, slug="bot")
    assert deployment.status == "active"
    _an_hour_passes(deployment)
    approval = eu_only.current_approval
    approval.expires_at = timezone.now() - timedelta(seconds=1)
    approval.save()
    job = sweep_expired()
    assert job.newly_blocked == 1
    deployment.refresh_from_db()
    assert deployment.status == "blocked"
    violations = {v["rule"] for v in deployment.last_decision.violations}
    assert "approval-not-expired" in violations


def test_reevaluation_job_runs_once(eu_only, make_deployment):
    from policy.services import reevaluate_deployments_for_version

    deployment = make_deployment(eu_only, slug="bot")
    eu_only.current_approval.decision = "revoked"
    eu_only.current_approval.save()
    job = reevaluate_deployments_for_version(eu_only.pk)
    assert job.status == "queued"
    reevaluation_run(job_id=job.pk)
    reevaluation_run(job_id=job.pk)  # a redelivery does nothing
    job.refresh_from_db()
    assert (job.status, job.attempts, job.evaluated, job.newly_blocked) == ("succeeded", 1, 1, 1)
    deployment.refresh_from_db()
    assert deployment.status == "blocked"
    assert ReevaluationJob.objects.count() == 1


def test_a_model_owner_requests_waivers_only_for_what_their_team_may_change(
    eu_only, make_deployment, owner, make_user, approver
):
    """Another team's owner cannot put a waiver request on this deployment or its version
    (the approver's decision would still be needed, but the request itself is refused)."""
    deployment = make_deployment(eu_only, slug="us-bot", region="us-east-1")
    stranger = make_user("other-team-owner", ["model_owner"])
    with pytest.raises(NotAllowed):
        _waiver(stranger, deployment)
    with pytest.raises(NotAllowed):
        waiver_request(
            actor=stranger,
            policy=Policy.objects.get(slug="model-approval"),
            rule_id="approval-region",
            model_version=eu_only,
            justification="not mine",
            expires_at=timezone.now() + timedelta(days=5),
        )
    assert not Waiver.objects.exists()
    assert _waiver(owner, deployment).requested_by == owner  # the deployment's own owner
    assert _waiver(approver, deployment).requested_by == approver  # approvers: any


# -- a deployment's team -------------------------------------------------------------------

_API_BODY = {
    "model": "eu-only", "environment": "prod", "region": "eu-west-1",
    "hosting": "self_hosted", "use_case": "document-translation", "data_classes": ["internal"],
}  # fmt: skip


@pytest.fixture
def two_team_owner(owner):
    from tests.factories import TeamFactory

    # Named so that the first team by name is not the one the owner means.
    TeamFactory(slug="alpha", name="Alpha").members.add(owner)
    TeamFactory(slug="beta", name="Beta").members.add(owner)
    TeamFactory(slug="gamma", name="Gamma")
    return owner


def test_an_owner_in_several_teams_must_name_the_deployments_team(eu_only, bearer, two_team_owner):
    client = bearer(two_team_owner, "policy:write")
    response = client.post(
        "/api/v1/policy/deployments/", {**_API_BODY, "slug": "no-team"}, format="json"
    )
    assert response.status_code == 400, response.json()
    assert "team" in response.json()["error"]["fields"]
    assert not Deployment.objects.filter(slug="no-team").exists()
    response = client.post(
        "/api/v1/policy/deployments/", {**_API_BODY, "slug": "in-beta", "team": "beta"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    assert response.json()["team"] == "beta"
    assert Deployment.objects.get(slug="in-beta").team.slug == "beta"


def test_an_owner_cannot_file_a_deployment_under_a_team_they_are_not_in(
    eu_only, bearer, two_team_owner
):
    client = bearer(two_team_owner, "policy:write")
    for slug in ("gamma", "no-such-team"):
        response = client.post(
            "/api/v1/policy/deployments/", {**_API_BODY, "slug": f"in-{slug}", "team": slug},
            format="json",
        )  # fmt: skip
        assert response.status_code == 400, response.json()
        assert "team" in response.json()["error"]["fields"]
    assert not Deployment.objects.filter(slug__in=["in-gamma", "in-no-such-team"]).exists()


def test_the_team_defaults_to_the_owners_only_team(eu_only, bearer, owner):
    from tests.factories import TeamFactory

    TeamFactory(slug="solo").members.add(owner)
    response = bearer(owner, "policy:write").post(
        "/api/v1/policy/deployments/", {**_API_BODY, "slug": "solo-dep"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["team"] == "solo"


def test_an_admin_may_file_a_deployment_under_any_team(eu_only, bearer, admin_user):
    from tests.factories import TeamFactory

    TeamFactory(slug="elsewhere")
    response = bearer(admin_user, "policy:write").post(
        "/api/v1/policy/deployments/", {**_API_BODY, "slug": "adm", "team": "elsewhere"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    assert response.json()["team"] == "elsewhere"


def test_the_service_refuses_moving_a_deployment_to_a_team_the_actor_is_not_in(
    eu_only, make_deployment, two_team_owner
):
    from config.exceptions import DomainError

    deployment = make_deployment(eu_only, slug="movable", team="alpha")
    with pytest.raises(DomainError) as refused:
        deployment_update(actor=two_team_owner, deployment=deployment, team="gamma")
    assert "team" in refused.value.fields
    moved = deployment_update(actor=two_team_owner, deployment=deployment, team="beta")
    assert moved.team.slug == "beta"
