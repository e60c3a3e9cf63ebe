"""Imports of the shipped real fixtures: Hugging Face model cards and lm-eval results."""

from __future__ import annotations

import json

import pytest

from audit.models import AuditEvent
from config.exceptions import DomainError, Unprocessable
from registry import services
from registry.models import AIModel, EvalResult, EvalSourceKind, ModelVersion
from tests.registry.factories import LicenseFactory

pytestmark = pytest.mark.django_db

LM_EVAL = "lm_eval_results_llama-3.1-8b-instruct.json"


@pytest.fixture
def catalog(db):
    LicenseFactory()
    LicenseFactory(spdx_id="MIT", name="MIT License")
    LicenseFactory(
        spdx_id="LicenseRef-Llama-3.1-Community",
        name="Llama 3.1",
        category="open_weights_restricted",
    )
    LicenseFactory(
        spdx_id="LicenseRef-Gemma-Terms-of-Use", name="Gemma", category="open_weights_restricted"
    )


@pytest.mark.parametrize(
    ("fixture", "repo", "license_id", "base"),
    [
        (
            "Llama-3.1-8B-Instruct.README.md",
            "meta-llama/Llama-3.1-8B-Instruct",
            "LicenseRef-Llama-3.1-Community",
            "meta-llama/Meta-Llama-3.1-8B",
        ),
        (
            "Mistral-7B-Instruct-v0.3.README.md",
            "mistralai/Mistral-7B-Instruct-v0.3",
            "Apache-2.0",
            "mistralai/Mistral-7B-v0.3",
        ),
        (
            "Qwen2.5-7B-Instruct.README.md",
            "Qwen/Qwen2.5-7B-Instruct",
            "Apache-2.0",
            "Qwen/Qwen2.5-7B",
        ),
        (
            "Qwen2.5-72B-Instruct.README.md",
            "Qwen/Qwen2.5-72B-Instruct",
            "LicenseRef-Qwen",
            "Qwen/Qwen2.5-72B",
        ),
        ("Phi-3-mini-4k-instruct.README.md", "microsoft/Phi-3-mini-4k-instruct", "MIT", ""),
        (
            "gemma-2-9b-it.README.md",
            "google/gemma-2-9b-it",
            "LicenseRef-Gemma-Terms-of-Use",
            "google/gemma-2-9b",
        ),
    ],
)
def test_real_model_cards_parse_offline(catalog, fixture_text, fixture, repo, license_id, base):
    preview = services.parse_model_card(fixture_text(fixture), hf_repo_id=repo)
    assert preview.license_id == license_id
    assert preview.base_model_repo == base
    assert preview.provider and preview.provider_jurisdiction
    assert preview.slug == repo.split("/")[1].lower().replace(".", "-")


def test_an_unknown_licence_is_a_warning_not_a_crash(catalog, fixture_text):
    preview = services.parse_model_card(
        fixture_text("Qwen2.5-72B-Instruct.README.md"), hf_repo_id="Qwen/Qwen2.5-72B-Instruct"
    )
    assert not preview.license_known
    assert any(
        "LicenseRef-Qwen" in w and "not in the licence catalog" in w for w in preview.warnings
    )


def test_model_index_evals_are_read_from_the_card(catalog, fixture_text):
    preview = services.parse_model_card(
        fixture_text("zephyr-7b-beta.README.md"), hf_repo_id="HuggingFaceH4/zephyr-7b-beta"
    )
    evals = {(e.benchmark, e.metric): e for e in preview.evals}
    arc = evals[("ai2_arc", "acc_norm")]
    assert arc.value == pytest.approx(62.0307, abs=1e-3) and arc.n_shot == 25
    assert arc.source_kind == EvalSourceKind.LEADERBOARD
    assert "open_llm_leaderboard" in arc.evidence_url
    assert evals[("MT-Bench", "score")].value == 7.34
    assert preview.datasets == [
        "HuggingFaceH4/ultrachat_200k",
        "HuggingFaceH4/ultrafeedback_binarized",
    ]


def test_import_creates_model_version_evals_and_lineage(catalog, fixture_text, owner, team):
    base = services.model_create(
        actor=owner,
        slug="mistral-7b-v0-1",
        name="Mistral 7B",
        provider="Mistral AI",
        provider_jurisdiction="FR",
        access="open_weights",
        license="Apache-2.0",
        hf_repo_id="mistralai/Mistral-7B-v0.1",
    )
    model, version, _preview = services.model_card_import(
        actor=owner,
        content=fixture_text("zephyr-7b-beta.README.md"),
        hf_repo_id="HuggingFaceH4/zephyr-7b-beta",
        version_label="beta",
    )
    assert model.base_model == base and model.license.spdx_id == "MIT"
    assert model.owner_team == team and model.provider == "Hugging Face"
    assert version.label == "beta" and version.status == "draft"
    assert EvalResult.objects.filter(version=version).count() == 9
    version.risk.refresh_from_db()
    assert "truthful_qa" in version.risk.factors[6]["value"]  # safety evidence counted
    assert AuditEvent.objects.filter(action="model.card_imported", target_id=str(model.pk)).exists()


def test_import_with_a_version_label_too_long_is_400_and_saves_nothing(catalog, owner, team):
    with pytest.raises(DomainError) as refused:
        services.model_card_import(
            actor=owner,
            content="---\nlicense: mit\n---\n# x",
            hf_repo_id="acme/long-label",
            version_label="v" * 101,
            overrides={"provider": "Acme", "provider_jurisdiction": "FR"},
        )
    assert "label" in refused.value.fields
    assert not AIModel.objects.exists() and not ModelVersion.objects.exists()


def test_import_with_an_unknown_licence_saves_nothing(catalog, fixture_text, owner, team):
    with pytest.raises(Unprocessable) as exc:
        services.model_card_import(
            actor=owner,
            content=fixture_text("Qwen2.5-72B-Instruct.README.md"),
            hf_repo_id="Qwen/Qwen2.5-72B-Instruct",
        )
    assert "LicenseRef-Qwen" in exc.value.message
    assert not AIModel.objects.exists() and not ModelVersion.objects.exists()


@pytest.mark.parametrize(
    ("datasets", "expected"),
    [("wikitext", ["wikitext"]), ("5", []), ("{a: 1}", []), ("[wikitext, c4]", ["wikitext", "c4"])],
)
def test_card_datasets_given_as_a_scalar_are_read_whole(catalog, datasets, expected):
    preview = services.parse_model_card(f"---\nlicense: mit\ndatasets: {datasets}\n---\n# x")
    assert preview.datasets == expected


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("---\nlicense: [mit\n---\n# x", "cannot be parsed"),
        ("---\n- a\n- b\n---\n", "cannot be parsed"),
        ("---\nmodel-index: 5\n---\n", "cannot be parsed"),
        ("# Just a README\nno front matter", "no YAML front matter"),
    ],
)
def test_malformed_model_cards_are_422_naming_the_problem(catalog, content, problem):
    with pytest.raises(Unprocessable, match=problem):
        services.parse_model_card(content)


def test_lm_eval_results_import(draft, owner, fixture_text):
    results = services.evals_import_lm_eval(
        actor=owner, version=draft, raw=fixture_text(LM_EVAL).encode(), filename=LM_EVAL
    )
    by_key = {(r.benchmark, r.metric): r for r in results}
    assert len(results) == 7
    gsm = by_key[("gsm8k", "exact_match[strict-match]")]
    assert gsm.value == pytest.approx(76.573, abs=1e-3) and gsm.n_shot == 5
    assert gsm.stderr == pytest.approx(1.166, abs=1e-3)
    assert gsm.source_kind == EvalSourceKind.INTERNAL
    assert str(gsm.evaluated_on) == "2024-07-30"
    stored = EvalResult.objects.filter(version=draft)
    assert stored.count() == 7
    assert len({r.evidence_file.name for r in stored}) == 1
    assert json.loads(stored.first().evidence_file.read())["n-shot"]["gsm8k"] == 5


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"config": {}}', "no 'results' object"),
        ('{"results": {"mmlu": 0.5}}', "task 'mmlu' must map"),
        ('{"results": {"mmlu": {"acc,none": "high"}}}', "not a number"),
        ('{"results": {"mmlu": {"acc,none": 1.7}}}', "out of range"),
        ('{"results": {"mmlu": {"alias": "mmlu"}}}', "no numeric metric"),
        ('{"results": {"mmlu": {"acc,none": 0.5}}, "date": 1e20}', "not a Unix timestamp"),
        ('{"results": {"mmlu": {"acc,none": 0.5}}, "date": NaN}', "not a Unix timestamp"),
        ("[" * 50_000 + "]" * 50_000, "not valid JSON"),
    ],
)
def test_lm_eval_json_of_the_wrong_shape_is_refused_and_nothing_saved(
    draft, owner, payload, problem
):
    with pytest.raises(Unprocessable, match=problem):
        services.evals_import_lm_eval(actor=owner, version=draft, raw=payload)
    assert not EvalResult.objects.filter(version=draft).exists()


def test_a_score_out_of_range_is_refused(draft, owner):
    with pytest.raises(DomainError, match="out of range"):
        services.eval_add(
            actor=owner,
            version=draft,
            item=services.EvalInput(benchmark="mmlu", metric="acc", value=140.0),
        )
    assert not EvalResult.objects.filter(version=draft).exists()


def test_spdx_expressions_are_normalised_and_unknown_ids_named(db):
    from registry.licensing import normalise_license_id

    assert normalise_license_id("mit OR apache-2.0") == "MIT OR Apache-2.0"
    with pytest.raises(Unprocessable, match=r"foo-1\.0"):
        normalise_license_id("foo-1.0")
    with pytest.raises(Unprocessable, match="not a valid SPDX"):
        normalise_license_id("MIT AND")


def test_non_finite_scores_never_reach_the_database_or_the_json(catalog, draft, owner):
    card = (
        "---\nlicense: mit\nmodel-index:\n- name: m\n  results:\n  - task: {type: text-generation}\n"
        "    dataset: {name: MMLU, type: mmlu}\n    metrics:\n    - {type: acc, value: .nan}\n---\n"
    )
    preview = services.parse_model_card(card, hf_repo_id="org/m")
    assert preview.evals == [] and any("skipped" in w for w in preview.warnings)
    with pytest.raises(DomainError, match="stderr"):
        services.eval_add(
            actor=owner,
            version=draft,
            item=services.EvalInput(benchmark="mmlu", metric="acc", value=50, stderr=float("nan")),
        )
