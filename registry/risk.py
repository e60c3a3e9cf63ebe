"""The risk grade of a model version, computed from named and documented factors.

Each factor adds points; the sum gives the grade (see ``GRADE_THRESHOLDS``). Every factor is
stored with its value, its points and why, so the approver sees how the grade came about.
An approver can override the grade with a justification (``risk_override``), which is
audited; the computed grade stays visible next to the override.

Factors and points:

- **licence category**: permissive 0, copyleft 5, open weights with use restrictions 10,
  RAIL 10, proprietary API terms 10, non-commercial 25 (cannot back a product).
- **territorial restrictions** in the licence: 10.
- **openness tier**: MOF Class I/II 0, Class III 5, open weights only 10, closed 15 (nothing
  can be inspected independently).
- **access kind**: self-hosted open weights 0, hosted open model 5, closed API 10 (prompts
  and data leave the organisation).
- **provider jurisdiction**: 20 when in ``STEWARD_ELEVATED_JURISDICTIONS`` (default CN, RU,
  IR, KP, BY), else 0.
- **EU AI Act class**: GPAI with systemic risk 15, GPAI 5, not GPAI 0.
- **safety evaluations**: 15 when the version has no safety benchmark result
  (``SAFETY_BENCHMARKS``), else 0.
- **evaluation evidence**: 10 when the version has no evaluation result at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from registry.models import (
    Access,
    AIModel,
    EUAIActClass,
    LicenseCategory,
    Modality,
    OpennessTier,
    RiskGrade,
)

SYSTEMIC_RISK_FLOPS = 1e25  # EU AI Act Art. 51(2)
DEFAULT_ELEVATED_JURISDICTIONS = ("CN", "RU", "IR", "KP", "BY")
SAFETY_BENCHMARKS = frozenset(
    {
        "truthfulqa",
        "toxigen",
        "bbq",
        "harmbench",
        "xstest",
        "advbench",
        "realtoxicityprompts",
        "crows_pairs",
        "winogender",
        "strongreject",
        "wmdp",
        "simplesafetytests",
        "do_not_answer",
        "airbench",
    }
)
# (exclusive upper bound of the score, grade)
GRADE_THRESHOLDS: list[tuple[int, str]] = [
    (25, RiskGrade.LOW),
    (45, RiskGrade.MEDIUM),
    (70, RiskGrade.HIGH),
]

LICENSE_POINTS = {
    LicenseCategory.PERMISSIVE: 0,
    LicenseCategory.COPYLEFT: 5,
    LicenseCategory.OPEN_WEIGHTS_RESTRICTED: 10,
    LicenseCategory.RAIL: 10,
    LicenseCategory.PROPRIETARY_API: 10,
    LicenseCategory.NON_COMMERCIAL: 25,
}
OPENNESS_POINTS = {
    OpennessTier.CLASS_I: 0,
    OpennessTier.CLASS_II: 0,
    OpennessTier.CLASS_III: 5,
    OpennessTier.OPEN_WEIGHTS_ONLY: 10,
    OpennessTier.CLOSED: 15,
}
ACCESS_POINTS = {Access.OPEN_WEIGHTS: 0, Access.HOSTED_OPEN: 5, Access.CLOSED_API: 10}
EU_POINTS = {EUAIActClass.NOT_GPAI: 0, EUAIActClass.GPAI: 5, EUAIActClass.GPAI_SYSTEMIC: 15}


@dataclass
class RiskResult:
    eu_ai_act_class: str
    score: int
    grade: str
    factors: list[dict[str, Any]] = field(default_factory=list)


def _squash(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


_SAFETY_KEYS = tuple(_squash(name) for name in SAFETY_BENCHMARKS)


def safety_benchmarks_in(names: Iterable[str]) -> list[str]:
    """Benchmarks that count as safety evidence; matched loosely so lm-eval's
    ``truthfulqa_mc2`` and the Hub's ``truthful_qa`` both count."""
    return sorted({n for n in names if _squash(n).startswith(_SAFETY_KEYS)})


def elevated_jurisdictions() -> set[str]:
    configured = getattr(settings, "STEWARD_ELEVATED_JURISDICTIONS", None)
    return {j.upper() for j in (configured or DEFAULT_ELEVATED_JURISDICTIONS)}


def eu_ai_act_class_for(model: AIModel) -> str:
    """The declared class, else derived: ≥10^25 training FLOP → systemic risk (Art. 51(2));
    general-purpose modalities → GPAI; the rest → not GPAI."""
    if model.eu_ai_act_class:
        return model.eu_ai_act_class
    if model.training_compute_flops and model.training_compute_flops >= SYSTEMIC_RISK_FLOPS:
        return EUAIActClass.GPAI_SYSTEMIC
    if model.modality in (Modality.TEXT, Modality.CODE, Modality.VISION_LANGUAGE):
        return EUAIActClass.GPAI
    return EUAIActClass.NOT_GPAI


def grade_for(score: int) -> str:
    for bound, grade in GRADE_THRESHOLDS:
        if score < bound:
            return grade
    return RiskGrade.CRITICAL


def _factor(name: str, value: Any, points: int, why: str) -> dict[str, Any]:
    return {"factor": name, "value": value, "points": points, "why": why}


def compute_risk(model: AIModel, benchmarks: Iterable[str]) -> RiskResult:
    """``benchmarks``: the benchmark names of the version's evaluation results."""
    lic = model.license
    names = {b.lower() for b in benchmarks}
    eu_class = eu_ai_act_class_for(model)
    factors = [
        _factor(
            "license_category",
            lic.category,
            LICENSE_POINTS.get(lic.category, 10),  # type: ignore[call-overload]
            f"Licence {lic.spdx_id} is {LicenseCategory(lic.category).label.lower()}.",
        ),
        _factor(
            "territorial_restrictions",
            list(lic.territorial_restrictions or []),
            10 if lic.territorial_restrictions else 0,
            (
                "The licence restricts use in " + ", ".join(lic.territorial_restrictions) + "."
                if lic.territorial_restrictions
                else "No territorial restriction."
            ),
        ),
        _factor(
            "openness_tier",
            model.openness_tier,
            OPENNESS_POINTS.get(model.openness_tier, 15),  # type: ignore[call-overload]
            f"Openness: {OpennessTier(model.openness_tier).label}.",
        ),
        _factor(
            "access",
            model.access,
            ACCESS_POINTS.get(model.access, 10),  # type: ignore[call-overload]
            {
                Access.OPEN_WEIGHTS: "Runs on our own infrastructure.",
                Access.HOSTED_OPEN: "An open model hosted by a third party.",
                Access.CLOSED_API: "Prompts and data are sent to the provider's API.",
            }.get(model.access, "Unknown access kind."),  # type: ignore[call-overload]
        ),
    ]
    elevated = model.provider_jurisdiction.upper() in elevated_jurisdictions()
    factors.append(
        _factor(
            "provider_jurisdiction",
            model.provider_jurisdiction,
            20 if elevated else 0,
            (
                f"Provider is in {model.provider_jurisdiction}, an elevated-risk jurisdiction."
                if elevated
                else f"Provider is in {model.provider_jurisdiction}."
            ),
        )
    )
    factors.append(
        _factor(
            "eu_ai_act_class",
            eu_class,
            EU_POINTS.get(eu_class, 5),  # type: ignore[call-overload]
            f"EU AI Act: {EUAIActClass(eu_class).label}.",
        )
    )
    safety = safety_benchmarks_in(names)
    has_safety = bool(safety)
    factors.append(
        _factor(
            "safety_evaluations",
            safety,
            0 if has_safety else 15,
            "Safety benchmark results are on record."
            if has_safety
            else "No safety benchmark result (TruthfulQA, ToxiGen, BBQ, HarmBench, ...).",
        )
    )
    factors.append(
        _factor(
            "evaluation_evidence",
            len(names),
            0 if names else 10,
            f"{len(names)} benchmark(s) on record." if names else "No evaluation result at all.",
        )
    )
    score = sum(int(f["points"]) for f in factors)
    return RiskResult(
        eu_ai_act_class=eu_class, score=score, grade=grade_for(score), factors=factors
    )
