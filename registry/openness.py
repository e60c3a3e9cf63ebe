"""Openness tier from the Model Openness Framework (MOF, LF AI & Data, arXiv:2403.13784).

The MOF lists the components a model release can include and groups them into three
cumulative classes. A release reaches a class when every component of that class (and of
the classes below it) is published under an open licence. Below Class III, Steward adds two
tiers: weights published but the Class III set incomplete or under a restrictive licence
("open weights only"), and no weights at all ("closed / API only").
"""

from __future__ import annotations

from dataclasses import dataclass

from registry.models import LicenseCategory, OpennessTier

# (key, label) in the MOF's order.
COMPONENTS: list[tuple[str, str]] = [
    ("architecture", "Model architecture"),
    ("weights", "Final model parameters (weights)"),
    ("technical_report", "Technical report"),
    ("evaluation_results", "Evaluation results"),
    ("model_card", "Model card"),
    ("data_card", "Data card"),
    ("training_code", "Training code"),
    ("inference_code", "Inference code"),
    ("evaluation_code", "Evaluation code"),
    ("evaluation_data", "Evaluation data"),
    ("supporting_libraries", "Supporting libraries and tools"),
    ("research_paper", "Research paper"),
    ("datasets", "Training datasets"),
    ("data_preprocessing_code", "Data preprocessing code"),
    ("intermediate_checkpoints", "Intermediate model parameters"),
]
COMPONENT_KEYS = [key for key, _ in COMPONENTS]
COMPONENT_LABELS = dict(COMPONENTS)

CLASS_III = [
    "architecture",
    "weights",
    "technical_report",
    "evaluation_results",
    "model_card",
    "data_card",
]
CLASS_II = [
    *CLASS_III,
    "training_code",
    "inference_code",
    "evaluation_code",
    "evaluation_data",
    "supporting_libraries",
]
CLASS_I = [
    *CLASS_II,
    "research_paper",
    "datasets",
    "data_preprocessing_code",
    "intermediate_checkpoints",
]

# The MOF requires open licences; weights under use-restricting terms cannot reach a class.
OPEN_LICENSE_CATEGORIES = {LicenseCategory.PERMISSIVE, LicenseCategory.COPYLEFT}


@dataclass(frozen=True)
class OpennessResult:
    tier: str
    missing_for_next: list[str]
    reason: str


def unknown_components(components: dict[str, object]) -> list[str]:
    return sorted(set(components) - set(COMPONENT_KEYS))


def compute_openness(components: dict[str, bool], license_category: str) -> OpennessResult:
    present = {key for key, value in components.items() if value is True}
    if "weights" not in present:
        return OpennessResult(
            OpennessTier.CLOSED, ["weights"], "The weights are not published: closed / API only."
        )
    if license_category not in OPEN_LICENSE_CATEGORIES:
        return OpennessResult(
            OpennessTier.OPEN_WEIGHTS_ONLY,
            [],
            "Weights are published under a licence with use restrictions; the MOF requires "
            "open licences, so no class applies.",
        )
    for tier, needed, below in (
        (OpennessTier.CLASS_I, CLASS_I, None),
        (OpennessTier.CLASS_II, CLASS_II, CLASS_I),
        (OpennessTier.CLASS_III, CLASS_III, CLASS_II),
    ):
        if present.issuperset(needed):
            missing = [key for key in (below or []) if key not in present]
            label = OpennessTier(tier).label
            return OpennessResult(tier, missing, f"Every {label} component is published.")
    missing = [key for key in CLASS_III if key not in present]
    return OpennessResult(
        OpennessTier.OPEN_WEIGHTS_ONLY,
        missing,
        "Weights are published but the Class III set is incomplete.",
    )
