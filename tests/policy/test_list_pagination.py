"""Every list endpoint is paginated ({"count", "next", "previous", "results"}, ?page_size up
to 500), and documented so in the OpenAPI schema; the one plain list is named in the README."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from policy.models import Region, UseCase
from registry.models import License
from tests.policy.factories import EvalResultFactory, ModelVersionFactory

PLAIN_LISTS = {"/api/v1/audit/keys/"}  # the handful of public keys that ever signed


@pytest.fixture
def reader(api_client: APIClient, admin_user) -> APIClient:
    api_client.force_login(admin_user)
    return api_client


def _first_page(client: APIClient, url: str, total: int) -> None:
    response = client.get(url, {"page_size": 1})
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == total
    assert len(body["results"]) == 1
    assert (body["next"] is not None) == (total > 1)
    if total > 1:
        second = client.get(url, {"page_size": 1, "page": 2}).json()["results"]
        assert second and second != body["results"]


def test_catalog_lists_are_paginated(reader, packs, version):
    _first_page(reader, "/api/v1/policy/regions/", Region.objects.count())
    _first_page(reader, "/api/v1/policy/use-cases/", UseCase.objects.count())
    _first_page(reader, "/api/v1/licenses/", License.objects.count())
    assert Region.objects.count() > 1 and UseCase.objects.count() > 1


def test_rule_lists_are_paginated(reader, packs):
    policy = reader.get("/api/v1/policy/policies/").json()["results"][0]["slug"]
    url = f"/api/v1/policy/policies/{policy}/versions/1/rules/"
    total = reader.get(url, {"page_size": 500}).json()["count"]
    assert total > 1
    _first_page(reader, url, total)


def test_version_and_eval_lists_are_paginated(reader, version):
    ModelVersionFactory(model=version.model, label="second")
    EvalResultFactory(version=version, benchmark="hellaswag")
    EvalResultFactory(version=version, benchmark="arc_challenge")
    _first_page(reader, f"/api/v1/models/{version.model.slug}/versions/", 2)
    _first_page(reader, f"/api/v1/model-versions/{version.pk}/evals/", version.evals.count())


def test_token_lists_are_paginated(reader, admin_user, token_for):
    token_for(admin_user, "registry:read")
    token_for(admin_user, "policy:check")
    _first_page(reader, "/api/v1/tokens/", 2)


def test_the_page_size_is_capped_at_500(reader, packs):
    response = reader.get("/api/v1/policy/regions/", {"page_size": 100000})
    assert response.status_code == 200
    assert len(response.json()["results"]) == min(Region.objects.count(), 500)


def test_the_schema_documents_every_list_as_paginated(api_client: APIClient, db):
    schema = api_client.get("/api/schema/?format=json").json()
    plain = set()
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if not get:
            continue
        ok = get["responses"].get("200", {}).get("content", {}).get("application/json", {})
        if ok.get("schema", {}).get("type") == "array":
            plain.add(path)
            continue
        if "Paginated" in str(ok.get("schema", {})):
            names = {p["name"] for p in get.get("parameters", []) if p["in"] == "query"}
            assert {"page", "page_size"} <= names, path
    assert plain == PLAIN_LISTS
