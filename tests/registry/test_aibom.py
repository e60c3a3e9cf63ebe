from __future__ import annotations

import json

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from django.urls import reverse

from registry import services
from registry.aibom import build_aibom
from registry.selectors import version_detail

pytestmark = pytest.mark.django_db


@pytest.fixture
def rich_version(make_model, owner, approved, llama_license, approver):
    model = make_model(
        slug="llama-3-2-11b-vision-instruct",
        name="Llama 3.2 11B Vision Instruct",
        provider="Meta",
        provider_jurisdiction="US",
        modality="vision_language",
        license=llama_license,
        hf_repo_id="meta-llama/Llama-3.2-11B-Vision-Instruct",
        model_card_url="https://huggingface.co/meta-llama/Llama-3.2-11B-Vision-Instruct",
        datasets=["public web images"],
        base_model=approved.model,
        context_length=131072,
    )
    version = services.version_create(
        actor=owner, model=model, label="3.2", revision="main", artifact_sha256="ab" * 32
    )
    services.eval_add(
        actor=owner,
        version=version,
        item=services.EvalInput(benchmark="mmmu", metric="acc", value=50.7, n_shot=0),
    )
    services.version_submit(actor=owner, version=version)
    services.version_approve(
        actor=approver, version=version, conditions={"use_cases": ["document-qa"]}
    )
    return version_detail(owner, version.pk)


def test_the_aibom_validates_against_the_cyclonedx_schema(rich_version):
    document = build_aibom(rich_version)
    assert document["specVersion"] == "1.6"
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(document))
    assert error is None, error
    component = document["metadata"]["component"]
    assert component["type"] == "machine-learning-model"
    assert component["purl"].startswith("pkg:huggingface/meta-llama/")
    assert component["hashes"] == [{"alg": "SHA-256", "content": "ab" * 32}]
    card = component["modelCard"]
    assert card["quantitativeAnalysis"]["performanceMetrics"][0] == {
        "type": "mmmu:acc",
        "value": "50.7",
        "slice": "0-shot",
    }
    assert card["considerations"]["useCases"] == ["document-qa"]
    props = {p["name"]: p["value"] for p in card["properties"]}
    assert props["steward:license"] == "LicenseRef-Llama-3.2-Community"
    assert props["steward:approval"] == "approved"
    assert component["pedigree"]["ancestors"][0]["name"].startswith("test-model-")


def test_the_validator_would_catch_a_broken_model_card(rich_version):
    document = build_aibom(rich_version)
    document["metadata"]["component"]["modelCard"]["considerations"]["useCases"] = "not a list"
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(document)) is not None


def test_the_aibom_endpoint(rich_version, bearer, viewer):
    response = bearer(viewer, "registry:read").get(
        f"/api/v1/model-versions/{rich_version.pk}/aibom/"
    )
    assert response.status_code == 200
    assert response.json()["bomFormat"] == "CycloneDX"
    assert "attachment" in response["Content-Disposition"]


@pytest.mark.parametrize(
    ("label", "disposition"),
    [
        ("3.1", 'attachment; filename="x-3.1.cdx.json"'),
        ('a"b', 'attachment; filename="x-a\\"b.cdx.json"'),
        ("line\nbreak", "attachment; filename*=utf-8''x-line%0Abreak.cdx.json"),
    ],
)
def test_any_version_label_gives_a_valid_download_header(
    make_model, owner, bearer, viewer, client, label, disposition
):
    version = services.version_create(actor=owner, model=make_model(slug="x"), label=label)
    response = bearer(viewer, "registry:read").get(f"/api/v1/model-versions/{version.pk}/aibom/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == disposition
    client.force_login(viewer)
    page = client.get(reverse("registry:version-aibom", args=[version.pk]))
    assert page.status_code == 200
    assert page["Content-Disposition"] == disposition
