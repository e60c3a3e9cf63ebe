"""Input the API fuzzer (tests/fuzz) found answering 500: each is now a clear 4xx."""

from __future__ import annotations

import pytest
from django.test import Client

from registry import services

pytestmark = pytest.mark.django_db

# '²' passes str.isdigit() but int() refuses it; 2**63 is past SQLite's integer range
# (OverflowError when bound); '0' and '-1' name no row.
NOT_AN_ID = ["²", str(2**63), "9" * 30, "0", "-1"]


@pytest.fixture
def pair(owner, make_model):
    model = make_model()
    return (
        services.version_create(actor=owner, model=model, label="a"),
        services.version_create(actor=owner, model=model, label="b"),
    )


@pytest.mark.parametrize("bad", NOT_AN_ID)
def test_compare_with_an_id_that_cannot_exist_is_400(bearer, viewer, pair, bad):
    client = bearer(viewer, "registry:read")
    response = client.get("/api/v1/model-versions/compare/", {"ids": f"{pair[0].pk},{bad}"})
    assert response.status_code == 400, response.content
    assert "ids" in response.json()["error"]["fields"]


def test_compare_still_takes_ids_with_spaces(bearer, viewer, pair):
    client = bearer(viewer, "registry:read")
    response = client.get(
        "/api/v1/model-versions/compare/", {"ids": f" {pair[0].pk} , {pair[1].pk}"}
    )
    assert response.status_code == 200
    assert [v["id"] for v in response.json()["versions"]] == [pair[0].pk, pair[1].pk]


@pytest.mark.parametrize("bad", NOT_AN_ID)
def test_the_compare_page_says_an_impossible_id_is_no_number(viewer, pair, bad):
    client = Client()
    client.force_login(viewer)
    response = client.get("/models/compare/", {"v": [pair[0].pk, bad]})
    assert response.status_code == 400
    assert b"Version ids must be numbers." in response.content


CARD_WITH_NUL = """---
license: apache-2.0
datasets: ["web\\u0000text"]
---
# Card
"""


@pytest.mark.parametrize("dry_run", [True, False])
def test_a_model_card_whose_yaml_makes_nul_characters_is_422(bearer, owner, team, apache, dry_run):
    # A quoted YAML escape makes a NUL character, which PostgreSQL cannot store: a 500.
    client = bearer(owner, "registry:read", "registry:write")
    response = client.post(
        "/api/v1/models/import-card/",
        {
            "content": CARD_WITH_NUL,
            "hf_repo_id": "org/nul-model",
            "provider": "Org",
            "provider_jurisdiction": "US",
            "dry_run": dry_run,
        },
        format="json",
    )
    assert response.status_code == 422, response.content
    assert "content" in response.json()["error"]["fields"]


def test_a_model_card_with_a_literal_backslash_u_is_imported(bearer, owner, team, apache):
    card = CARD_WITH_NUL.replace('["web\\u0000text"]', "[web\\u0000text]")
    client = bearer(owner, "registry:read", "registry:write")
    response = client.post(
        "/api/v1/models/import-card/",
        {
            "content": card,
            "hf_repo_id": "org/plain",
            "provider": "Org",
            "provider_jurisdiction": "US",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["model"]["datasets"] == ["web\\u0000text"]
