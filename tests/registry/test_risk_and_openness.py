from __future__ import annotations

import pytest

from audit.models import AuditEvent
from config.exceptions import DomainError, NotAllowed
from registry import services
from registry.models import LicenseCategory, OpennessTier
from registry.openness import CLASS_I, CLASS_II, CLASS_III, compute_openness
from registry.risk import compute_risk, grade_for
from tests.registry.factories import AIModelFactory, LicenseFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("components", "category", "tier"),
    [
        ({}, LicenseCategory.PROPRIETARY_API, OpennessTier.CLOSED),
        ({"weights": True}, LicenseCategory.PERMISSIVE, OpennessTier.OPEN_WEIGHTS_ONLY),
        (dict.fromkeys(CLASS_III, True), LicenseCategory.PERMISSIVE, OpennessTier.CLASS_III),
        (dict.fromkeys(CLASS_II, True), LicenseCategory.COPYLEFT, OpennessTier.CLASS_II),
        (dict.fromkeys(CLASS_I, True), LicenseCategory.PERMISSIVE, OpennessTier.CLASS_I),
        # The MOF needs open licences: complete but use-restricted weights stay below Class III.
        (
            dict.fromkeys(CLASS_I, True),
            LicenseCategory.OPEN_WEIGHTS_RESTRICTED,
            OpennessTier.OPEN_WEIGHTS_ONLY,
        ),
    ],
)
def test_openness_tier_follows_the_model_openness_framework(components, category, tier):
    assert compute_openness(components, category).tier == tier


def test_openness_tier_is_computed_when_a_model_is_saved(make_model):
    from registry.openness import CLASS_II as needed

    model = make_model(openness_components=dict.fromkeys(needed, True))
    assert model.openness_tier == OpennessTier.CLASS_II


def test_closed_api_models_are_closed_whatever_the_checklist(make_model):
    model = make_model(access="closed_api", openness_components={"weights": True})
    assert model.openness_tier == OpennessTier.CLOSED


def test_unknown_openness_component_is_refused(make_model):
    with pytest.raises(DomainError, match="Unknown openness component"):
        make_model(openness_components={"vibes": True})


def test_every_risk_factor_is_named_with_its_points():
    lic = LicenseFactory(
        spdx_id="LicenseRef-X",
        name="X",
        category="open_weights_restricted",
        territorial_restrictions=["EU"],
    )
    model = AIModelFactory.build(
        license=lic,
        provider_jurisdiction="CN",
        access="closed_api",
        openness_tier="closed",
        modality="text",
        training_compute_flops=2e25,
    )
    result = compute_risk(model, [])
    points = {f["factor"]: f["points"] for f in result.factors}
    assert points == {
        "license_category": 10,
        "territorial_restrictions": 10,
        "openness_tier": 15,
        "access": 10,
        "provider_jurisdiction": 20,
        "eu_ai_act_class": 15,
        "safety_evaluations": 15,
        "evaluation_evidence": 10,
    }
    assert result.score == 105 and result.grade == "critical"
    assert result.eu_ai_act_class == "gpai_systemic"
    assert all(f["why"] for f in result.factors)


def test_safety_evidence_lowers_the_grade():
    model = AIModelFactory.build(license=LicenseFactory(), openness_tier="open_weights_only")
    without = compute_risk(model, ["mmlu"])
    with_safety = compute_risk(model, ["mmlu", "truthfulqa_mc2"])
    assert without.score - with_safety.score == 15


@pytest.mark.parametrize(
    ("score", "grade"), [(0, "low"), (24, "low"), (25, "medium"), (45, "high"), (70, "critical")]
)
def test_grade_thresholds(score, grade):
    assert grade_for(score) == grade


def test_adding_evals_reassesses_the_risk(draft, owner):
    before = draft.risk.score
    services.eval_add(
        actor=owner,
        version=draft,
        item=services.EvalInput(benchmark="toxigen", metric="score", value=12.0),
    )
    draft.refresh_from_db()
    draft.risk.refresh_from_db()
    assert draft.risk.score == before - 25  # safety evidence and evidence at all
    assert AuditEvent.objects.filter(action="model_version.risk_assessed").count() == 2


def test_override_needs_a_justification_and_is_audited(draft, approver):
    with pytest.raises(DomainError, match="justification"):
        services.risk_override(actor=approver, version=draft, grade="low", justification="")
    risk = services.risk_override(
        actor=approver,
        version=draft,
        grade="low",
        justification="Runs air-gapped; red-team report RT-2024-17 attached.",
    )
    assert risk.grade == "low" and risk.computed_grade != "low"
    event = AuditEvent.objects.get(action="model_version.risk_overridden")
    assert event.changes["grade"]["after"] == "low"
    assert "RT-2024-17" in event.changes["justification"]


def test_only_deciders_override(draft, owner, viewer):
    for user in (owner, viewer):
        with pytest.raises(NotAllowed):
            services.risk_override(actor=user, version=draft, grade="low", justification="x" * 20)
