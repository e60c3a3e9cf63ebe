from __future__ import annotations

import pytest
from django.test import Client

from policy.facts import DeploymentSpec
from policy.models import Deployment, Policy, Waiver
from policy.services import check_spec, version_create_draft
from tests.policy.factories import approved_version

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def seeded(packs, make_deployment):
    version = approved_version(slug="eu-only", conditions={"jurisdictions": ["EU"]})
    make_deployment(version, slug="good")
    make_deployment(version, slug="bad", region="us-east-1", data_classes=["pii"])
    return version


def test_every_page_renders(seeded, approver):
    client = login(approver)
    decision = Deployment.objects.get(slug="bad").last_decision
    draft = version_create_draft(actor=approver, policy=Policy.objects.get(slug="eval-gates"))
    pages = [
        "/policies/",
        "/policies/model-approval/",
        "/policies/model-approval/v1/",
        f"/policies/eval-gates/v{draft.number}/",
        f"/policies/eval-gates/v{draft.number}/params",
        f"/policies/eval-gates/v{draft.number}/rules/new",
        f"/policies/eval-gates/v{draft.number}/rules/minimum-eval-scores/edit",
        "/policies/eval-gates/diff",
        "/deployments/",
        "/deployments/?status=blocked&environment=prod",
        "/deployments/bad/",
        "/waivers/",
        "/decisions/",
        "/decisions/?verdict=deny",
        f"/decisions/{decision.decision_id}/",
        "/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
    assert b"approval-region" in client.get("/deployments/bad/").content
    dashboard = client.get("/").content.decode()
    assert "Blocked deployments" in dashboard and "/deployments/bad/" in dashboard
    blocked = client.get("/deployments/?status=blocked").content.decode()
    assert "/deployments/bad/" in blocked and "/deployments/good/" not in blocked


def test_the_rule_editor_shows_cel_errors_with_their_position(seeded, approver):
    client = login(approver)
    draft = version_create_draft(actor=approver, policy=Policy.objects.get(slug="eval-gates"))
    url = f"/policies/eval-gates/v{draft.number}/rules/new"
    response = client.post(
        url,
        {"rule_id": "x", "expression": "region.code ==", "message": "m", "severity": "deny"},
    )
    assert response.status_code == 400
    assert "line 1, column 15" in response.content.decode()
    response = client.post(
        url,
        {"rule_id": "x", "expression": "region.code != ''", "message": "m", "severity": "warn"},
    )
    assert response.status_code == 302
    assert draft.rules.filter(rule_id="x").exists()
    # Simulate then publish from the UI.
    assert client.post(f"/policies/eval-gates/v{draft.number}/simulate").status_code == 200
    client.post(f"/policies/eval-gates/v{draft.number}/publish")
    assert Policy.objects.get(slug="eval-gates").active_version_id == draft.pk


def test_decision_log_filters(seeded, approver):
    check_spec(
        actor=approver,
        spec=DeploymentSpec(model="eu-only", environment="dev", region="eu-west-1"),
    )
    client = login(approver)
    page = client.get("/decisions/?verdict=deny").content.decode()
    assert "inline" not in page and "bad" in page
    page = client.get("/decisions/?source=api").content.decode()
    assert "inline" in page


def test_deployments_and_waivers_in_the_ui(seeded, owner, approver):
    client = login(owner)
    response = client.post(
        "/deployments/new",
        {
            "slug": "ui-dep",
            "model_version": seeded.pk,
            "environment": "prod",
            "region": "ap-southeast-1",
            "hosting": "self_hosted",
            "use_case": "coding-assistant",
            "data_subject_region": "EU",
            "commercial": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Deployment.objects.get(slug="ui-dep").status == "blocked"
    response = client.post(
        "/waivers/",
        {
            "policy": "model-approval",
            "rule_id": "approval-region",
            "deployment": "ui-dep",
            "justification": "pilot",
            "expires_at": "2099-01-01T00:00",
        },
    )
    assert response.status_code == 400  # more than a year ahead
    response = client.post(
        "/waivers/",
        {
            "policy": "model-approval",
            "rule_id": "approval-region",
            "deployment": "ui-dep",
            "justification": "pilot",
            "expires_at": _soon(),
        },
    )
    assert response.status_code == 302
    waiver = Waiver.objects.get()
    # The requester is not an approver: refused with 403, like the API (not a flash message).
    assert client.post(f"/waivers/{waiver.pk}/approve").status_code == 403
    waiver.refresh_from_db()
    assert waiver.status == "pending"
    login(approver).post(f"/waivers/{waiver.pk}/approve")
    waiver.refresh_from_db()
    assert waiver.status == "approved"
    assert Deployment.objects.get(slug="ui-dep").status == "active"


def test_an_approver_deciding_their_own_waiver_in_the_ui_gets_a_403_page(seeded, make_user):
    boss = make_user("boss", ["approver"])
    client = login(boss)
    response = client.post(
        "/waivers/",
        {
            "policy": "model-approval",
            "rule_id": "approval-region",
            "deployment": "bad",
            "justification": "pilot",
            "expires_at": _soon(),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    waiver = Waiver.objects.get()
    # Separation of duties is 409 in the API (as for model approvals); a page refuses it.
    response = client.post(f"/waivers/{waiver.pk}/approve")
    assert response.status_code == 403
    assert b"Separation of duties" in response.content
    waiver.refresh_from_db()
    assert waiver.status == "pending"


def test_the_version_diff_shows_each_line_once_without_blank_lines(approver, packs):
    import re

    from policy.services import rule_create, version_publish

    policy = Policy.objects.get(slug="eval-gates")
    draft = version_create_draft(actor=approver, policy=policy)
    rule_create(
        actor=approver,
        version=draft,
        rule_id="always",
        title="Always",
        expression="true",
        message="never shown",
        severity="warn",
    )
    version_publish(actor=approver, version=draft)
    page = login(approver).get("/policies/eval-gates/diff").content.decode()
    diff = re.search(r'<pre class="diff">(.*?)</pre>', page, re.S)
    assert diff is not None and "always" in diff.group(1)
    # The spans are display: block; a newline between two of them is an empty line on screen.
    assert "</span>\n" not in diff.group(1)


def test_comparing_the_first_version_compares_it_with_the_next(approver, packs):
    from policy.services import rule_create

    draft = version_create_draft(actor=approver, policy=Policy.objects.get(slug="eval-gates"))
    rule_create(
        actor=approver,
        version=draft,
        rule_id="added-in-v2",
        title="Added",
        expression="true",
        message="never shown",
        severity="warn",
    )
    page = login(approver).get("/policies/eval-gates/v1/").content.decode()
    assert 'href="/policies/eval-gates/diff?to=1"' in page
    page = login(approver).get("/policies/eval-gates/diff?to=1").content.decode()
    assert "v1 → v2" in page and "added-in-v2" in page


@pytest.mark.parametrize(
    "url",
    ["/decisions/?after=29/11/2026", "/deployments/?status=live", "/waivers/?status=granted"],
)
def test_an_invalid_filter_is_shown_and_lists_nothing_instead_of_everything(seeded, approver, url):
    # django-filter drops an invalid filter: the page listed every row as if it applied.
    response = login(approver).get(url)
    page = response.content.decode()
    assert response.status_code == 400
    assert 'class="error" role="alert"' in page
    assert "/decisions/dec_" not in page and 'href="/deployments/good/"' not in page


def test_the_deployment_page_says_which_waivers_are_in_force(
    seeded, make_deployment, owner, approver
):
    from datetime import timedelta

    from django.utils import timezone

    from policy.services import waiver_decide, waiver_request

    deployment = make_deployment(seeded, slug="waived", region="us-east-1")
    policy = Policy.objects.get(slug="model-approval")
    expires = timezone.now() + timedelta(days=7)
    for state in ("approved", "rejected", "pending"):
        waiver = waiver_request(
            actor=owner,
            policy=policy,
            rule_id="approval-region",
            deployment=deployment,
            justification=state,
            expires_at=expires,
        )
        if state != "pending":
            waiver_decide(actor=approver, waiver=waiver, approve=state == "approved")
    page = login(owner).get("/deployments/waived/").content.decode()
    assert page.count("in force until") == 1
    assert "pending, would run until" in page
    assert "rejected until" not in page and "model-approval/approval-region — rejected<" in page


def test_deciding_a_waiver_says_what_was_done(seeded, make_deployment, owner, approver):
    from django.utils import timezone
    from django.utils.dateparse import parse_datetime

    from policy.services import waiver_request

    deployment = make_deployment(seeded, slug="waived", region="us-east-1")
    expires = timezone.make_aware(parse_datetime(_soon()))
    for action, said in (("reject", "rejected"), ("approve", "approved")):
        waiver = waiver_request(
            actor=owner,
            policy=Policy.objects.get(slug="model-approval"),
            rule_id="approval-region",
            deployment=deployment,
            justification=f"to {action}",
            expires_at=expires,
        )
        response = login(approver).post(f"/waivers/{waiver.pk}/{action}", follow=True)
        assert f"Waiver {waiver.pk} {said}." in response.content.decode()
    response = login(approver).post(f"/waivers/{waiver.pk}/revoke", follow=True)
    assert f"Waiver {waiver.pk} revoked." in response.content.decode()


def _soon() -> str:
    from datetime import timedelta

    from django.utils import timezone

    return (timezone.now() + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")


def test_a_viewer_cannot_re_evaluate_a_deployment_from_its_page(seeded, viewer, owner):
    deployment = Deployment.objects.get(slug="bad")
    decisions = deployment.decisions.count()
    assert login(viewer).post("/deployments/bad/evaluate").status_code == 403
    assert deployment.decisions.count() == decisions  # nothing was evaluated or recorded
    assert login(owner).post("/deployments/bad/evaluate").status_code == 302
    assert deployment.decisions.count() == decisions + 1


def test_a_role_refusal_on_a_page_is_a_403_not_a_flash_message(seeded, viewer):
    policy = Policy.objects.get(slug="model-approval")
    response = login(viewer).post("/policies/model-approval/", {"mode": "audit"})
    assert response.status_code == 403
    policy.refresh_from_db()
    assert policy.mode == "enforce"


def _deployment_form(slug: str, version, **extra) -> dict:
    return {
        "slug": slug, "model_version": version.pk, "environment": "prod",
        "region": "eu-west-1", "hosting": "self_hosted", "use_case": "document-translation",
        "data_subject_region": "EU", "commercial": "on", **extra,
    }  # fmt: skip


def test_the_deployment_form_asks_an_owner_in_several_teams_for_the_team(seeded, owner):
    from tests.factories import TeamFactory

    TeamFactory(slug="alpha", name="Alpha").members.add(owner)
    TeamFactory(slug="beta", name="Beta").members.add(owner)
    TeamFactory(slug="gamma", name="Gamma")
    client = login(owner)
    page = client.get("/deployments/new").content.decode()
    assert 'name="team"' in page and "Beta" in page and "Gamma" not in page
    response = client.post("/deployments/new", _deployment_form("ui-none", seeded))
    assert response.status_code == 400
    assert "several teams" in response.content.decode() or "Required" in response.content.decode()
    response = client.post("/deployments/new", _deployment_form("ui-gamma", seeded, team="gamma"))
    assert response.status_code == 400
    assert not Deployment.objects.filter(slug__in=["ui-none", "ui-gamma"]).exists()
    response = client.post("/deployments/new", _deployment_form("ui-beta", seeded, team="beta"))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Deployment.objects.get(slug="ui-beta").team.slug == "beta"


def test_the_deployment_form_defaults_to_the_only_team(seeded, owner):
    from tests.factories import TeamFactory

    TeamFactory(slug="solo", name="Solo").members.add(owner)
    response = login(owner).post("/deployments/new", _deployment_form("ui-solo", seeded))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Deployment.objects.get(slug="ui-solo").team.slug == "solo"


def test_form_pages_are_refused_to_roles_that_could_not_submit_them(
    seeded, viewer, auditor, approver, owner, make_user
):
    draft = version_create_draft(actor=approver, policy=Policy.objects.get(slug="eval-gates"))
    v = f"/policies/eval-gates/v{draft.number}"
    policy_forms = [f"{v}/params", f"{v}/rules/new", f"{v}/rules/minimum-eval-scores/edit"]
    deployment_forms = ["/deployments/new", "/deployments/good/edit"]
    other_owner = make_user("other-owner", ["model_owner"])
    for user in (viewer, auditor):
        client = login(user)
        for page in policy_forms + deployment_forms:
            response = client.get(page)
            assert response.status_code == 403, (user.username, page)
            assert "Not allowed" in response.content.decode()
    for page in policy_forms:  # model owners do not edit policies
        assert login(owner).get(page).status_code == 403, page
    for page in deployment_forms:  # approvers do not register or edit deployments
        assert login(approver).get(page).status_code == 403, page
    # Another model owner may register deployments, but not edit this one.
    assert login(other_owner).get("/deployments/new").status_code == 200
    assert login(other_owner).get("/deployments/good/edit").status_code == 403
    for page in policy_forms:
        assert login(approver).get(page).status_code == 200, page
    for page in deployment_forms:
        assert login(owner).get(page).status_code == 200, page


def test_pages_link_to_forms_only_for_who_may_submit_them(seeded, viewer, approver, owner):
    draft = version_create_draft(actor=approver, policy=Policy.objects.get(slug="eval-gates"))
    v = f"/policies/eval-gates/v{draft.number}"
    for user, hidden in ((viewer, True), (owner, True), (approver, False)):
        page = login(user).get(f"{v}/").content.decode()
        assert (f"{v}/params" not in page) is hidden, user.username
        assert (f"{v}/rules/new" not in page) is hidden, user.username
    for user, hidden in ((viewer, True), (approver, True), (owner, False)):
        assert ("/deployments/new" not in login(user).get("/deployments/").content.decode()) is (
            hidden
        ), user.username
        assert (
            "/deployments/good/edit" not in login(user).get("/deployments/good/").content.decode()
        ) is (hidden), user.username
