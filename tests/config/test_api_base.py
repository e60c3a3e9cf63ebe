from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_unknown_api_path_is_a_json_404(api_client: APIClient):
    response = api_client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_wrong_method_is_a_json_405(api_client: APIClient, viewer):
    api_client.force_login(viewer)
    response = api_client.put("/api/v1/me/", {}, format="json")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_unsupported_media_type_is_a_json_415(api_client: APIClient, viewer):
    api_client.force_login(viewer)
    response = api_client.post("/api/v1/tokens/", data="name: x", content_type="application/x-yaml")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_malformed_json_is_a_json_400(api_client: APIClient, viewer):
    api_client.force_login(viewer)
    response = api_client.post("/api/v1/tokens/", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_responses_carry_a_request_id(api_client: APIClient):
    response = api_client.get("/healthz")
    assert len(response["X-Request-ID"]) == 32
    echoed = api_client.get("/healthz", HTTP_X_REQUEST_ID="ci-run-1234-abcd")
    assert echoed["X-Request-ID"] == "ci-run-1234-abcd"
    forged = api_client.get("/healthz", HTTP_X_REQUEST_ID="<script>")
    assert forged["X-Request-ID"] != "<script>"


def test_the_openapi_schema_is_served_and_valid(api_client: APIClient):
    response = api_client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/me/" in schema["paths"]
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_the_api_docs_page_is_served_without_a_cdn(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger" in html.lower()
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()


def test_security_headers_are_set(client):
    response = client.get("/login/")
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


def test_healthz_and_readyz(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "broker": "ok"}


def test_readyz_is_503_naming_the_database_when_it_is_unreachable(tmp_path):
    code = (
        "import django; django.setup(); from django.test import Client; "
        "r = Client().get('/readyz'); print(r.status_code); print(r.content.decode())"
    )
    env = {k: v for k, v in os.environ.items()}
    env.update(
        DJANGO_SETTINGS_MODULE="config.test_settings",
        # Nothing listens on port 1: the connection is refused at once.
        DATABASE_URL="postgres://steward@127.0.0.1:1/steward",
        STEWARD_VAR_DIR=str(tmp_path),
    )
    env.pop("CELERY_BROKER_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    status, body = result.stdout.split("\n", 1)
    assert status == "503", result.stderr
    assert '"database": "database unreachable' in body
    assert '"broker": "ok"' in body


def test_readyz_is_503_naming_the_broker_when_it_is_unreachable(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"].startswith("broker unreachable")


def test_dashboard_panels_without_items_render_no_empty_bullets(client, viewer):
    client.force_login(viewer)
    response = client.get("/")
    assert response.status_code == 200
    assert "<li></li>" not in response.content.decode().replace(" ", "").replace("\n", "")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/policy/deployments/a%00b/",
        "/api/v1/policy/decisions/a%00b",
        "/api/v1/licenses/MIT%00/",
        "/deployments/a%00b/",
    ],
)
def test_a_path_with_a_nul_character_is_a_404(api_client: APIClient, admin_user, path):
    # Found by the API fuzzer on PostgreSQL: text cannot hold NUL, so looking the path's
    # name up was a DataError (500).
    api_client.force_login(admin_user)
    response = api_client.get(path)
    assert response.status_code == 404
    if path.startswith("/api/"):
        assert response.json()["error"]["code"] == "not_found"


def test_wrong_method_with_a_token_is_a_json_405_not_a_403(bearer, viewer):
    client = bearer(viewer, "policy:check", "registry:read")
    for method, path in [
        ("put", "/api/v1/me/"),
        ("get", "/api/v1/policy/check"),
        ("post", "/api/v1/policy/ping"),
    ]:
        response = getattr(client, method)(path, {}, format="json")
        assert response.status_code == 405, (method, path, response.json())
        assert response.json()["error"]["code"] == "method_not_allowed"


def test_head_with_a_token_needs_what_get_needs(bearer, viewer):
    client = bearer(viewer, "policy:check", "registry:read")
    for path in ["/api/v1/me/", "/api/v1/policy/ping"]:
        assert client.get(path).status_code == 200
        assert client.head(path).status_code == 200, path


@pytest.mark.parametrize("depth", [65, 900, 50_000])
def test_json_nested_too_deep_is_a_json_400(bearer, viewer, depth):
    client = bearer(viewer, "policy:check", "registry:write")
    body = "[" * depth + "]" * depth
    for path in ["/api/v1/policy/check", "/api/v1/models/import-card/"]:
        response = client.post(path, data=body, content_type="application/json")
        assert response.status_code == 400, (path, response.content[:200])
        assert response.json()["error"]["code"] == "parse_error"


def test_json_nested_a_few_levels_is_still_parsed(bearer, viewer):
    body = {"deployment": "nope", "x": [[[[{"a": [1]}]]]]}
    response = bearer(viewer, "policy:check").post("/api/v1/policy/check", body, format="json")
    assert response.status_code == 422


def test_drf_may_load_the_api_settings_module_first(tmp_path):
    # DRF's pagination system check imports DEFAULT_PAGINATION_CLASS (config.api) before
    # anything else when the checks run in that order: `manage.py check` failed at random.
    code = (
        "import django; django.setup(); from rest_framework.settings import api_settings; "
        "print(api_settings.DEFAULT_PAGINATION_CLASS.__name__)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.test_settings"}
    env.update(STEWARD_VAR_DIR=str(tmp_path), DATABASE_URL="")
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "Pagination", result.stderr


def test_an_unsatisfiable_accept_header_is_a_documented_json_406(api_client: APIClient, viewer):
    api_client.force_login(viewer)
    response = api_client.get("/api/v1/me/", HTTP_ACCEPT="__proto__")
    assert response.status_code == 406
    assert response.json()["error"]["code"] == "not_acceptable"
    schema = api_client.get("/api/schema/?format=json").json()
    assert "406" in schema["paths"]["/api/v1/me/"]["get"]["responses"]
