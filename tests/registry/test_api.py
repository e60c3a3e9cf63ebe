from __future__ import annotations

import pytest

from audit.models import AuditEvent
from registry import services
from registry.models import AIModel, EvalResult, ModelVersion, VersionStatus
from tests.factories import TeamFactory
from tests.registry.factories import AIModelFactory, EvalResultFactory, ModelVersionFactory

pytestmark = pytest.mark.django_db


def test_list_filters_and_searches_models(make_model, bearer, viewer, draft):
    make_model(name="Closed thing", access="closed_api")
    client = bearer(viewer, "registry:read")
    body = client.get("/api/v1/models/").json()
    assert body["count"] == 2
    assert client.get("/api/v1/models/?access=closed_api").json()["count"] == 1
    assert client.get("/api/v1/models/?q=closed").json()["count"] == 1
    assert client.get("/api/v1/models/?status=draft").json()["count"] == 1
    item = client.get("/api/v1/models/?status=draft").json()["results"][0]
    assert item["current_version"]["status"] == "draft"
    assert item["current_version"]["risk_grade"] in {"low", "medium", "high", "critical"}
    bad = client.get("/api/v1/models/?risk_grade=apocalyptic")
    assert bad.status_code == 400 and "risk_grade" in bad.json()["error"]["fields"]


def test_a_user_without_a_role_sees_nothing(make_model, make_user, bearer):
    make_model()
    nobody = make_user("nobody")
    assert bearer(nobody, "registry:read").get("/api/v1/models/").json()["count"] == 0


def test_model_list_endpoint_query_count_does_not_grow(
    bearer, viewer, django_assert_max_num_queries
):
    team = TeamFactory()
    for i in range(60):
        version = ModelVersionFactory(model=AIModelFactory(owner_team=team), label=f"v{i}")
        EvalResultFactory(version=version)
    client = bearer(viewer, "registry:read")
    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/models/?page_size=100")
    assert response.json()["count"] == 60


def test_owner_creates_a_model_and_unknown_licence_is_422(bearer, owner, team, apache):
    client = bearer(owner, "registry:write")
    payload = {
        "slug": "my-model",
        "name": "My model",
        "provider": "Meta",
        "provider_jurisdiction": "us",
        "access": "open_weights",
        "license": "apache-2.0",
        "openness_components": {"weights": True},
    }
    created = client.post("/api/v1/models/", payload, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["license"]["spdx_id"] == "Apache-2.0"
    assert created.json()["owner_team"] == "ml-platform"
    unknown = client.post(
        "/api/v1/models/", {**payload, "slug": "other", "license": "LicenseRef-Nope"}, format="json"
    )
    assert unknown.status_code == 422
    assert "LicenseRef-Nope" in unknown.json()["error"]["message"]
    bad = client.post(
        "/api/v1/models/", {**payload, "slug": "other", "license": "foo-9"}, format="json"
    )
    assert bad.status_code == 422 and "foo-9" in bad.json()["error"]["message"]
    dup = client.post("/api/v1/models/", payload, format="json")
    assert dup.status_code == 409
    assert AIModel.objects.count() == 1


def test_a_concurrent_create_of_the_same_model_slug_is_a_409(
    bearer, owner, team, apache, monkeypatch
):
    from django.db.models import QuerySet

    client = bearer(owner, "registry:write")
    payload = {
        "slug": "twice", "name": "Twice", "provider": "Meta", "provider_jurisdiction": "US",
        "access": "open_weights", "license": "Apache-2.0",
    }  # fmt: skip
    assert client.post("/api/v1/models/", payload, format="json").status_code == 201
    # The other request's checks ran before this one's insert: they saw no such slug.
    exists = QuerySet.exists
    monkeypatch.setattr(QuerySet, "exists", lambda qs: False if qs.model is AIModel else exists(qs))
    response = client.post("/api/v1/models/", payload, format="json")
    assert response.status_code == 409, response.content
    assert AIModel.objects.filter(slug="twice").count() == 1


def test_viewer_and_read_tokens_cannot_write(bearer, viewer, owner, team, apache, draft):
    payload = {
        "slug": "x",
        "name": "x",
        "provider": "x",
        "provider_jurisdiction": "US",
        "access": "open_weights",
        "license": "Apache-2.0",
    }
    assert (
        bearer(viewer, "registry:write").post("/api/v1/models/", payload, format="json").status_code
        == 403
    )
    response = bearer(owner, "registry:read").post(
        f"/api/v1/model-versions/{draft.pk}/submit/", {}, format="json"
    )
    assert response.status_code == 403 and "registry:write" in response.json()["error"]["message"]


def test_the_workflow_over_the_api(bearer, owner, approver, draft, policy_catalog):
    as_owner = bearer(owner, "registry:write")
    as_approver = bearer(approver, "registry:write", "registry:read")
    base = f"/api/v1/model-versions/{draft.pk}"
    assert (
        as_owner.post(f"{base}/submit/", {"justification": "chatbot"}, format="json").status_code
        == 200
    )
    self_approval = as_owner.post(f"{base}/approve/", {}, format="json")
    assert self_approval.status_code in (403, 409)
    again = as_owner.post(f"{base}/submit/", {}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_transition"
    unknown = as_approver.post(f"{base}/approve/", {"conditions": {"moons": ["x"]}}, format="json")
    assert unknown.status_code == 400 and "moons" in unknown.json()["error"]["message"]
    approved = as_approver.post(
        f"{base}/approve/",
        {
            "conditions": {"environments": ["prod"], "use_cases": ["coding-assistant"]},
            "expires_at": "2099-01-01T00:00:00Z",
            "comment": "ok",
        },
        format="json",
    )
    assert approved.status_code == 200, approved.json()
    body = approved.json()
    assert body["status"] == "approved" and body["usable"] is True
    assert body["current_approval"]["conditions"] == {
        "environments": ["prod"],
        "use_cases": ["coding-assistant"],
    }
    facts = as_approver.get(f"{base}/facts/").json()
    assert facts["approval"]["in_force"] is True
    revoked = as_approver.post(f"{base}/revoke/", {"reason": "incident"}, format="json")
    assert revoked.json()["status"] == "revoked"


def test_approval_conditions_outside_the_catalogs_are_400_naming_key_and_value(
    bearer, approver, submitted, policy_catalog
):
    conditions = {
        "environments": ["moon"],
        "regions": ["eu-west1"],
        "use_cases": ["nope"],
        "data_classes": ["secret"],
        "jurisdictions": ["XX"],
    }
    response = bearer(approver, "registry:write").post(
        f"/api/v1/model-versions/{submitted.pk}/approve/",
        {"conditions": conditions},
        format="json",
    )
    assert response.status_code == 400, response.json()
    error = response.json()["error"]
    assert error["code"] == "invalid"
    for key, (value,) in conditions.items():
        assert f"conditions.{key}: Unknown" in error["message"] and value in error["message"]
        assert value in error["fields"][f"conditions.{key}"][0]
    submitted.refresh_from_db()
    assert submitted.status == VersionStatus.SUBMITTED


def test_self_approval_over_the_api_is_409_naming_separation_of_duties(bearer, admin_user, draft):
    client = bearer(admin_user, "registry:write")
    client.post(f"/api/v1/model-versions/{draft.pk}/submit/", {}, format="json")
    response = client.post(f"/api/v1/model-versions/{draft.pk}/approve/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "separation_of_duties"
    draft.refresh_from_db()
    assert draft.status == VersionStatus.SUBMITTED


def test_reject_without_comment_is_400(bearer, approver, submitted):
    response = bearer(approver, "registry:write").post(
        f"/api/v1/model-versions/{submitted.pk}/reject/", {}, format="json"
    )
    assert response.status_code == 400 and "comment" in response.json()["error"]["fields"]


def test_evals_add_and_lm_eval_import_endpoints(bearer, owner, draft, fixture_text):
    client = bearer(owner, "registry:write", "registry:read")
    url = f"/api/v1/model-versions/{draft.pk}/evals/"
    added = client.post(
        url, {"benchmark": "mmlu", "metric": "acc", "value": 61.5, "n_shot": 5}, format="json"
    )
    assert added.status_code == 201
    out_of_range = client.post(
        url, {"benchmark": "mmlu", "metric": "acc", "value": 615}, format="json"
    )
    assert (
        out_of_range.status_code == 400
        and "out of range" in out_of_range.json()["error"]["message"]
    )
    raw = fixture_text("lm_eval_results_llama-3.1-8b-instruct.json")
    imported = client.post(url, data=raw, content_type="application/json")
    assert imported.status_code == 201, imported.json()
    assert len(imported.json()) == 7
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("results.json", raw.encode(), content_type="application/json")
    multipart = client.post(f"{url}import-lm-eval/", {"file": upload}, format="multipart")
    assert multipart.status_code == 201
    wrong = client.post(f"{url}import-lm-eval/", {"results": {"x": 3}}, format="json")
    assert wrong.status_code == 422 and "task 'x'" in wrong.json()["error"]["message"]
    assert EvalResult.objects.filter(version=draft).count() == 15
    assert client.get(url).json()["count"] == 15


def test_card_import_endpoint_preview_and_create(bearer, owner, team, apache, fixture_text):
    client = bearer(owner, "registry:write")
    content = fixture_text("Qwen2.5-7B-Instruct.README.md")
    preview = client.post(
        "/api/v1/models/import-card/",
        {"content": content, "hf_repo_id": "Qwen/Qwen2.5-7B-Instruct", "dry_run": True},
        format="json",
    )
    assert preview.status_code == 200 and preview.json()["model"] is None
    assert preview.json()["preview"]["license_id"] == "Apache-2.0"
    assert not AIModel.objects.exists()
    created = client.post(
        "/api/v1/models/import-card/",
        {"content": content, "hf_repo_id": "Qwen/Qwen2.5-7B-Instruct", "version_label": "2.5"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert created.json()["model"]["slug"] == "qwen2-5-7b-instruct"
    assert created.json()["model"]["provider_jurisdiction"] == "CN"
    broken = client.post(
        "/api/v1/models/import-card/", {"content": "---\nlicense: [mit\n---\n"}, format="json"
    )
    assert broken.status_code == 422 and broken.json()["error"]["code"] == "invalid_model_card"


def test_licence_catalog_endpoints(bearer, approver, viewer, apache):
    assert (
        bearer(viewer, "registry:read").get("/api/v1/licenses/").json()["results"][0]["spdx_id"]
        == "Apache-2.0"
    )
    detail = bearer(viewer, "registry:read").get("/api/v1/licenses/apache-2.0/").json()
    assert "Commercial use is allowed." in detail["obligations_in_plain_words"]
    client = bearer(approver, "registry:write")
    created = client.post(
        "/api/v1/licenses/",
        {
            "spdx_id": "CC-BY-NC-4.0",
            "name": "CC BY-NC 4.0",
            "category": "non_commercial",
            "commercial_use": False,
            "attribution_required": True,
        },
        format="json",
    )
    assert created.status_code == 201
    assert (
        client.post(
            "/api/v1/licenses/",
            {"spdx_id": "cc-by-nc-4.0", "name": "x", "category": "rail"},
            format="json",
        ).status_code
        == 409
    )
    assert (
        bearer(viewer, "registry:write")
        .post(
            "/api/v1/licenses/",
            {"spdx_id": "MIT", "name": "MIT", "category": "permissive"},
            format="json",
        )
        .status_code
        == 403
    )
    assert AuditEvent.objects.filter(action="license.created").count() == 1


def test_a_concurrent_create_of_the_same_licence_is_a_409(bearer, approver, monkeypatch):
    from django.db.models import QuerySet

    from registry.models import License

    client = bearer(approver, "registry:write")
    body = {"spdx_id": "LicenseRef-Twice", "name": "Twice", "category": "permissive"}
    assert client.post("/api/v1/licenses/", body, format="json").status_code == 201
    # The other request's checks ran before this one's insert: they saw no such licence.
    exists, first = QuerySet.exists, QuerySet.first
    monkeypatch.setattr(QuerySet, "exists", lambda qs: False if qs.model is License else exists(qs))
    monkeypatch.setattr(QuerySet, "first", lambda qs: None if qs.model is License else first(qs))
    response = client.post("/api/v1/licenses/", body, format="json")
    assert response.status_code == 409, response.content
    assert License.objects.filter(spdx_id="LicenseRef-Twice").count() == 1


def test_compare_endpoint(bearer, viewer, owner, make_model):
    model = make_model()
    a = services.version_create(actor=owner, model=model, label="a")
    b = services.version_create(actor=owner, model=model, label="b")
    for version, value in ((a, 60.0), (b, 70.0)):
        services.eval_add(
            actor=owner,
            version=version,
            item=services.EvalInput(benchmark="mmlu", metric="acc", value=value),
        )
    client = bearer(viewer, "registry:read")
    body = client.get(f"/api/v1/model-versions/compare/?ids={a.pk},{b.pk}").json()
    assert body["rows"] == [{"key": "mmlu:acc", "values": [60.0, 70.0]}]
    assert client.get(f"/api/v1/model-versions/compare/?ids={a.pk}").status_code == 400
    assert client.get("/api/v1/model-versions/compare/?ids=x,y").status_code == 400


def test_approval_queue_endpoint_says_who_may_decide(bearer, owner, approver, submitted):
    mine = bearer(owner, "registry:read").get("/api/v1/approvals/").json()["results"][0]
    theirs = bearer(approver, "registry:read").get("/api/v1/approvals/").json()["results"][0]
    assert mine["may_decide"] is False and theirs["may_decide"] is True
    assert theirs["pending_approval"]["requested_by"] == "owner"


def test_the_openapi_schema_documents_the_registry(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"] if response["Content-Type"].endswith("json") else None
    if paths is not None:
        assert "/api/v1/model-versions/{id}/approve/" in paths


def test_unknown_version_is_404(bearer, viewer):
    response = bearer(viewer, "registry:read").get("/api/v1/model-versions/999999/")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert ModelVersion.objects.count() == 0
