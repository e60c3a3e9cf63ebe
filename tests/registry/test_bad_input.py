"""Input the API fuzzer (tests/fuzz) found answering 500: each is now a clear 4xx."""

from __future__ import annotations

import pytest
from django.test import Client

from config.exceptions import DomainError
from registry import services
from registry.models import AIModel

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


# A version label is one printable line: a line break splits CSV rows, log lines and the
# AI-BOM download's header; NUL cannot be stored by PostgreSQL; a bidi override reorders text.
LABELS_WITH_CONTROLS = [
    ("1.0\nX-Injected: 1", "U+000A"),
    ("1.0\r\n2", "U+000D"),
    ("1.0\t2", "U+0009"),
    ("1.0\x002", "U+0000"),
    ("1.0\x1b[31m", "U+001B"),
    ("1.0\x85b", "U+0085"),
    ("1.0\u20282", "U+2028"),
    ("\u202e0.1", "U+202E"),
]


@pytest.mark.parametrize(("label", "code"), LABELS_WITH_CONTROLS)
def test_a_version_label_with_control_characters_is_refused(owner, make_model, label, code):
    model = make_model()
    with pytest.raises(DomainError) as refused:
        services.version_create(actor=owner, model=model, label=label)
    assert "control characters" in refused.value.message and code in refused.value.message
    assert list(refused.value.fields) == ["label"]
    assert not model.versions.exists()


def test_printable_labels_still_pass(owner, make_model):
    model = make_model()
    for label in ("2024-07-23", "3.1", "v0.3 (beta)", "版本一", '1.0 "rc"'):
        assert services.version_create(actor=owner, model=model, label=label).label == label
    # Surrounding whitespace, line breaks included, is trimmed as before: nothing is stored.
    assert services.version_create(actor=owner, model=model, label=" 4.0\n").label == "4.0"


@pytest.mark.parametrize(("label", "code"), LABELS_WITH_CONTROLS)
def test_the_versions_endpoint_refuses_a_label_with_control_characters(
    bearer, owner, make_model, label, code
):
    model = make_model()
    response = bearer(owner, "registry:write").post(
        f"/api/v1/models/{model.slug}/versions/", {"label": label}, format="json"
    )
    assert response.status_code == 400, response.content
    assert "label" in response.json()["error"]["fields"]
    assert not model.versions.exists()


def test_the_card_import_refuses_a_version_label_with_control_characters(
    bearer, owner, team, apache
):
    response = bearer(owner, "registry:read", "registry:write").post(
        "/api/v1/models/import-card/",
        {
            "content": "---\nlicense: apache-2.0\n---\n# Card\n",
            "hf_repo_id": "org/tabbed",
            "provider": "Org",
            "provider_jurisdiction": "US",
            "version_label": "1.0\tbeta",
        },
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "U+0009" in response.json()["error"]["message"]
    assert "label" in response.json()["error"]["fields"]
    assert not AIModel.objects.exists()  # all or nothing


def test_the_import_page_shows_a_bad_version_label_beside_the_field(owner, team, apache):
    client = Client()
    client.force_login(owner)
    response = client.post(
        "/models/import/",
        {
            "step": "confirm",
            "content": "---\nlicense: apache-2.0\n---\n# Card\n",
            "hf_repo_id": "org/tabbed",
            "slug": "tabbed",
            "name": "Tabbed",
            "provider": "Org",
            "provider_jurisdiction": "US",
            "license": "Apache-2.0",
            "owner_team": "",
            "version_label": "1.0\u2028beta",
        },
    )
    assert response.status_code == 400
    errors = response.context["confirm"].errors
    assert "control characters" in errors["version_label"][0]
    assert not AIModel.objects.exists()


# provider_jurisdiction is where the provider is established: an ISO 3166-1 alpha-2 country
# code or EU. Risk and policy rules compare it with such codes; "ZZ" would match nothing.
@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("ZZ", "Unknown country code: ZZ."),
        ("XX", "Unknown country code: XX."),
        ("UK", "Unknown country code: UK (the United Kingdom is GB)."),
        ("U1", "Unknown country code: U1."),
        ("USA", "Unknown country code: USA."),
    ],
)
def test_a_provider_jurisdiction_that_is_no_country_code_is_refused(make_model, code, message):
    with pytest.raises(DomainError) as refused:
        make_model(provider_jurisdiction=code)
    assert refused.value.fields == {"provider_jurisdiction": [message]}
    assert not AIModel.objects.exists()


def test_country_codes_and_eu_are_provider_jurisdictions(make_model):
    for code, stored in [("US", "US"), ("gb", "GB"), (" cn ", "CN"), ("EU", "EU"), ("IE", "IE")]:
        assert make_model(provider_jurisdiction=code).provider_jurisdiction == stored


def test_the_api_refuses_an_unknown_provider_jurisdiction_on_create_and_update(
    bearer, owner, team, apache, make_model
):
    client = bearer(owner, "registry:read", "registry:write")
    payload = {
        "slug": "zz-model",
        "name": "ZZ model",
        "provider": "Nowhere AI",
        "provider_jurisdiction": "ZZ",
        "access": "open_weights",
        "license": "Apache-2.0",
    }
    created = client.post("/api/v1/models/", payload, format="json")
    assert created.status_code == 400, created.content
    assert created.json()["error"]["fields"] == {
        "provider_jurisdiction": ["Unknown country code: ZZ."]
    }
    model = make_model()
    patched = client.patch(
        f"/api/v1/models/{model.slug}/", {"provider_jurisdiction": "QQ"}, format="json"
    )
    assert patched.status_code == 400, patched.content
    assert "provider_jurisdiction" in patched.json()["error"]["fields"]
    model.refresh_from_db()
    assert model.provider_jurisdiction == "FR"


def test_the_import_page_shows_an_unknown_provider_jurisdiction_beside_the_field(
    owner, team, apache
):
    client = Client()
    client.force_login(owner)
    response = client.post(
        "/models/import/",
        {
            "step": "confirm",
            "content": "---\nlicense: apache-2.0\n---\n# Card\n",
            "hf_repo_id": "org/somewhere",
            "slug": "somewhere",
            "name": "Somewhere",
            "provider": "Org",
            "provider_jurisdiction": "ZZ",
            "license": "Apache-2.0",
            "owner_team": "",
            "version_label": "1.0",
        },
    )
    assert response.status_code == 400
    assert response.context["confirm"].errors["provider_jurisdiction"] == [
        "Unknown country code: ZZ."
    ]
    assert not AIModel.objects.exists()


def test_the_country_table_holds_the_249_assigned_codes():
    from registry.countries import ISO_3166_ALPHA2

    assert len(ISO_3166_ALPHA2) == 249
    assert all(len(code) == 2 and code.isascii() and code.isupper() for code in ISO_3166_ALPHA2)
    assert {"GB", "SS", "CW", "XK", "UK", "EU"} & ISO_3166_ALPHA2 == {"GB", "SS", "CW"}
