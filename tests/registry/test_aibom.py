from __future__ import annotations

import json

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from registry import services
from registry.aibom import build_aibom
from registry.models import ModelVersion
from registry.selectors import version_detail

pytestmark = pytest.mark.django_db


@pytest.fixture
def rich_version(make_model, owner, approved, llama_license, approver, policy_catalog):
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
        actor=approver, version=version, conditions={"use_cases": ["internal-knowledge-search"]}
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
    assert card["considerations"]["useCases"] == ["internal-knowledge-search"]
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
    ("label", "header"),
    [
        ('1.0 "beta"', 'attachment; filename="{slug}-1.0 \\"beta\\".cdx.json"'),
        ("版本一", "attachment; filename*=utf-8''{slug}-%E7%89%88%E6%9C%AC%E4%B8%80.cdx.json"),
        (
            "1.0\r\nX-Injected: 1",
            "attachment; filename*=utf-8''{slug}-1.0%0D%0AX-Injected%3A%201.cdx.json",
        ),
    ],
)
def test_the_aibom_download_names_any_version_label(
    rich_version, bearer, viewer, client, label, header
):
    # Quoted as is, a '"' broke the header, a non-ASCII label was MIME-encoded whole (browsers
    # read no file name) and a line break was a 500 (Django refuses it in a header).
    ModelVersion.objects.filter(pk=rich_version.pk).update(label=label)
    expected = header.format(slug=rich_version.model.slug)
    api = bearer(viewer, "registry:read").get(f"/api/v1/model-versions/{rich_version.pk}/aibom/")
    assert api.status_code == 200 and api["Content-Disposition"] == expected
    client.force_login(viewer)
    page = client.get(f"/model-versions/{rich_version.pk}/aibom/")
    assert page.status_code == 200 and page["Content-Disposition"] == expected
