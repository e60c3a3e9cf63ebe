from __future__ import annotations

import pytest
from django.test import Client

from registry.models import AIModel, VersionStatus
from tests.factories import TeamFactory
from tests.registry.factories import AIModelFactory, EvalResultFactory, ModelVersionFactory

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def many_models(db):
    team = TeamFactory()
    for i in range(120):
        version = ModelVersionFactory(model=AIModelFactory(owner_team=team), label=f"v{i}")
        EvalResultFactory(version=version)
    return team


def test_model_list_page_queries_do_not_grow_with_models(
    many_models, viewer, django_assert_max_num_queries
):
    client = _client(viewer)
    client.get("/models/")  # warm the session and role caches out of the count
    with django_assert_max_num_queries(10):
        response = client.get("/models/?page=2")
    assert response.status_code == 200
    assert response.content.count(b'href="/models/model-') == 50


def test_model_list_filters_and_bad_filter_is_400(make_model, viewer, draft):
    make_model(name="Closed thing", access="closed_api")
    client = _client(viewer)
    assert b"Closed thing" not in client.get("/models/?status=draft").content
    assert b"Closed thing" in client.get("/models/?q=closed").content
    assert client.get("/models/?openness=wide-open").status_code == 400


def test_model_detail_shows_obligations_risk_and_history(
    approved, viewer, django_assert_max_num_queries
):
    client = _client(viewer)
    with django_assert_max_num_queries(16):
        response = client.get(f"/models/{approved.model.slug}/")
    html = response.content.decode()
    assert "Commercial use is allowed." in html
    assert "Risk points" not in html and "license category" in html
    assert "requested by <strong>owner</strong>" in html
    assert "data classes: public" in html
    assert client.get("/models/nope/").status_code == 404


def test_approval_queue_approve_with_conditions(submitted, approver, owner):
    queue = _client(owner).get("/approvals/").content.decode()
    assert "another approver must decide" in queue
    client = _client(approver)
    assert 'aria-label="Approve' in client.get("/approvals/").content.decode()
    response = client.post(
        f"/model-versions/{submitted.pk}/approve/",
        {
            "environments": "dev, prod",
            "jurisdictions": "eu",
            "comment": "fine",
            "next": "/approvals/",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/approvals/"
    submitted.refresh_from_db()
    assert submitted.status == VersionStatus.APPROVED
    assert submitted.current_approval.conditions == {
        "environments": ["dev", "prod"],
        "jurisdictions": ["EU"],
    }


def test_the_queue_shows_obligations_and_risk_factors_where_the_approver_decides(
    submitted, approver
):
    page = _client(approver).get("/approvals/").content.decode()
    assert "Licence obligations" in page and "Risk factors" in page
    assert "Commercial use is allowed." in page
    assert "openness tier" in page
    # Conditions are ticked from the policy vocabulary, one form per version (unique ids).
    assert f'id="approve-{submitted.pk}-data_classes_4"' in page
    assert 'value="phi"' in page and 'value="EU"' in page


def test_conditions_ticked_in_the_queue_are_saved(submitted, approver):
    response = _client(approver).post(
        f"/model-versions/{submitted.pk}/approve/",
        {"jurisdictions": ["EU"], "data_classes": ["public", "internal", "pii"]},
        follow=True,
    )
    assert "being re-evaluated" in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.current_approval.conditions == {
        "jurisdictions": ["EU"],
        "data_classes": ["public", "internal", "pii"],
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("data_classes", "personal", "not one of the available choices"),
        ("regions", "EU", "EU is a jurisdiction, not a region"),
        # Matched exactly against the deployment's region code and use case slug.
        ("regions", "eu-west-1, eu-west1", "Unknown region: eu-west1."),
        ("use_cases", "coding-assistant, coding-asistant", "Unknown use case: coding-asistant."),
    ],
)
def test_a_condition_no_deployment_could_match_is_refused(
    submitted, approver, field, value, message
):
    from policy.seed import _seed_catalogs

    _seed_catalogs()  # the regions and use cases deployments name
    response = _client(approver).post(
        f"/model-versions/{submitted.pk}/approve/", {field: value}, follow=True
    )
    assert message in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == VersionStatus.SUBMITTED


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"regions": "eu-west1"}, "Unknown region: eu-west1."),
        ({"expires_at": "2001-01-01T00:00"}, "Must be in the future."),
    ],
)
def test_a_refused_approval_keeps_the_conditions_ticked_and_shows_the_error_beside_them(
    submitted, approver, body, error
):
    from policy.seed import _seed_catalogs

    _seed_catalogs()
    response = _client(approver).post(
        f"/model-versions/{submitted.pk}/approve/",
        {
            "environments": ["prod"],
            "data_classes": ["public", "internal"],
            "use_cases": "coding-assistant",
            "comment": "Only for the IDE.",
            "next": "/approvals/",
            **body,
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert f"{submitted} was not approved" in page
    assert f'<p class="error" role="alert">{error}</p>' in page
    # What the approver set is still there, on this version's form.
    prefix = f"approve-{submitted.pk}-"
    assert f'value="prod" id="{prefix}environments_2" checked' in page
    assert f'value="internal" id="{prefix}data_classes_1" checked' in page
    assert 'value="coding-assistant"' in page and "Only for the IDE." in page
    submitted.refresh_from_db()
    assert submitted.status == VersionStatus.SUBMITTED


def test_approving_a_version_already_decided_goes_back_to_the_queue_with_a_message(
    approved, approver
):
    client = _client(approver)
    response = client.post(
        f"/model-versions/{approved.pk}/approve/", {"next": "/approvals/"}, follow=True
    )
    assert response.redirect_chain == [("/approvals/", 302)]
    assert "allowed only from submitted" in response.content.decode()


def test_a_draft_reads_as_draft_and_a_pending_one_points_approvers_to_the_queue(
    draft, owner, approver
):
    page = _client(owner).get(f"/models/{draft.model.slug}/").content.decode()
    assert ">draft</span>" in page and ">none</span>" not in page
    from registry import services

    services.version_submit(actor=owner, version=draft)
    page = _client(approver).get(f"/models/{draft.model.slug}/").content.decode()
    assert f'href="/approvals/#q{draft.pk}"' in page
    page = _client(owner).get(f"/models/{draft.model.slug}/").content.decode()
    assert "Waiting for an approver" in page and 'href="/approvals/#q' not in page


def test_self_approval_in_the_ui_is_refused_with_a_message(submitted, owner):
    response = _client(owner).post(f"/model-versions/{submitted.pk}/approve/")
    assert response.status_code == 403  # a refusal, like a forged POST (issue 7)
    assert "Separation of duties" in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == VersionStatus.SUBMITTED


def test_ui_actions_refuse_bad_input_without_saving(submitted, approver):
    client = _client(approver)
    response = client.post(f"/model-versions/{submitted.pk}/reject/", {"comment": ""}, follow=True)
    assert "comment" in response.content.decode().lower()
    assert client.post(f"/model-versions/{submitted.pk}/explode/").status_code == 404
    submitted.refresh_from_db()
    assert submitted.status == VersionStatus.SUBMITTED


def test_compare_page(owner, make_model, viewer):
    from registry import services

    model = make_model()
    a = services.version_create(actor=owner, model=model, label="a")
    b = services.version_create(actor=owner, model=model, label="b")
    client = _client(viewer)
    response = client.get(f"/models/compare/?v={a.pk}&v={b.pk}")
    assert response.status_code == 200 and b"Compare versions" in response.content
    assert client.get(f"/models/compare/?v={a.pk}").status_code == 400


def test_import_card_flow(owner, team, apache, fixture_text):
    client = _client(owner)
    content = fixture_text("Mistral-7B-Instruct-v0.3.README.md")
    preview = client.post(
        "/models/import/",
        {"step": "preview", "content": content, "hf_repo_id": "mistralai/Mistral-7B-Instruct-v0.3"},
    )
    assert preview.status_code == 200
    assert b"Create model and draft version" in preview.content
    created = client.post(
        "/models/import/",
        {
            "step": "confirm",
            "content": content,
            "hf_repo_id": "mistralai/Mistral-7B-Instruct-v0.3",
            "slug": "mistral-7b-instruct-v0-3",
            "name": "Mistral 7B Instruct v0.3",
            "provider": "Mistral AI",
            "provider_jurisdiction": "FR",
            "license": "Apache-2.0",
            "owner_team": "",
            "version_label": "v0.3",
        },
    )
    assert created.status_code == 302
    assert AIModel.objects.get(slug="mistral-7b-instruct-v0-3").versions.get().label == "v0.3"
    broken = client.post(
        "/models/import/", {"step": "preview", "content": "---\nlicense: [x\n---\n"}
    )
    assert broken.status_code == 400 and b"cannot be parsed" in broken.content


def test_aibom_download_and_dashboard(approved, viewer):
    client = _client(viewer)
    response = client.get(f"/model-versions/{approved.pk}/aibom/")
    assert response.status_code == 200 and response.json()["bomFormat"] == "CycloneDX"
    assert b"Approvals waiting" in client.get("/").content


def test_a_forged_approval_by_a_model_owner_is_refused_with_403(submitted, other_owner):
    response = _client(other_owner).post(f"/model-versions/{submitted.pk}/approve/", {})
    assert response.status_code == 403
    submitted.refresh_from_db()
    assert submitted.status == VersionStatus.SUBMITTED
