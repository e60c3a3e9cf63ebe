"""Every seeded rule, with a case it denies (or warns about) and a case it allows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from policy.facts import DeploymentSpec
from policy.packs import PACKS
from policy.services import check_spec
from registry.models import LicenseCategory, VersionStatus
from tests.policy.factories import (
    AIModelFactory,
    LicenseFactory,
    ModelVersionFactory,
    approved_version,
)

pytestmark = pytest.mark.django_db


def _version(case: dict[str, Any]):
    if case.get("unapproved"):
        return ModelVersionFactory(model=AIModelFactory(), status=VersionStatus.SUBMITTED)
    kwargs = dict(case.get("version", {}))
    if "license" in kwargs:
        kwargs["license"] = LicenseFactory(**kwargs["license"])
    return approved_version(**kwargs)


def findings(case: dict[str, Any], actor) -> set[tuple[str, str]]:
    version = _version(case)
    fields = {
        "model": version.model.slug,
        "version": version.label,
        "environment": "prod",
        "region": "eu-west-1",
        "use_case": "document-translation",
        "data_classification": ["internal"],
        "hosting": "self_hosted",
    }
    fields.update(case.get("spec", {}))
    decision = check_spec(actor=actor, spec=DeploymentSpec(**fields))
    return {(f["policy"], f["rule"]) for f in decision.violations + decision.warnings}


ONE_DAY = timedelta(days=1)
CASES: dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]] = {
    ("acceptable-use", "no-prohibited-use"): (
        {"spec": {"use_case": "social-scoring"}},
        {"spec": {"use_case": "coding-assistant"}},
    ),
    ("acceptable-use", "high-risk-needs-low-risk-model"): (
        {"version": {"grade": "high", "conditions": {"use_cases": ["cv-screening"]}},
         "spec": {"use_case": "cv-screening"}},
        {"version": {"grade": "medium", "conditions": {"use_cases": ["cv-screening"]}},
         "spec": {"use_case": "cv-screening"}},
    ),
    ("acceptable-use", "high-risk-needs-use-case-approval"): (
        {"spec": {"use_case": "credit-scoring"}},
        {"version": {"conditions": {"use_cases": ["credit-scoring"]}},
         "spec": {"use_case": "credit-scoring"}},
    ),
    ("acceptable-use", "non-commercial-licence-not-in-prod"): (
        {"version": {"license": {"category": LicenseCategory.NON_COMMERCIAL, "commercial_use": False}}},
        {"version": {"license": {"category": LicenseCategory.NON_COMMERCIAL, "commercial_use": False}},
         "spec": {"environment": "dev"}},
    ),
    ("acceptable-use", "licence-user-threshold"): (
        {"version": {"license": {"user_threshold_mau": 700_000_000}},
         "spec": {"expected_mau": 800_000_000}},
        {"version": {"license": {"user_threshold_mau": 700_000_000}},
         "spec": {"expected_mau": 50_000}},
    ),
    ("acceptable-use", "licence-territorial-restriction"): (
        {"version": {"license": {"territorial_restrictions": ["EU"]}}},
        {"version": {"license": {"territorial_restrictions": ["EU"]}},
         "spec": {"region": "us-east-1"}},
    ),
    ("acceptable-use", "licence-acceptable-use-policy"): (
        {"version": {"license": {"category": LicenseCategory.OPEN_WEIGHTS_RESTRICTED}},
         "spec": {"use_case": "untargeted-facial-scraping"}},
        {"version": {"license": {"category": LicenseCategory.OPEN_WEIGHTS_RESTRICTED}},
         "spec": {"use_case": "coding-assistant"}},
    ),
    ("acceptable-use", "transparency-duties"): (
        {"spec": {"use_case": "customer-support-chatbot"}},
        {"spec": {"use_case": "customer-support-chatbot", "environment": "staging"}},
    ),
    ("data-residency", "personal-data-eu-residency"): (
        {"spec": {"region": "us-east-1", "data_classification": ["pii"]}},
        {"spec": {"region": "eu-west-2", "data_classification": ["pii"]}},  # UK: adequacy
    ),
    ("data-residency", "health-data-self-hosted"): (
        {"spec": {"hosting": "vendor_api", "data_classification": ["phi"]}},
        {"spec": {"region": "on-prem-de", "data_classification": ["phi"]}},
    ),
    ("data-residency", "vendor-api-processing-region"): (
        {"spec": {"hosting": "vendor_api", "region": "ap-southeast-1"}},
        {"spec": {"hosting": "vendor_api", "region": "us-east-1"}},
    ),
    ("data-residency", "personal-data-provider-jurisdiction"): (
        {"version": {"provider_jurisdiction": "CN"},
         "spec": {"hosting": "vendor_api", "data_classification": ["pii"]}},
        {"version": {"provider_jurisdiction": "CN"}, "spec": {"data_classification": ["pii"]}},
    ),
    ("model-approval", "version-approved"): ({"unapproved": True}, {}),
    ("model-approval", "approval-not-expired"): (
        {"version": {"expires_in": -ONE_DAY}},
        {"version": {"expires_in": ONE_DAY}},
    ),
    ("model-approval", "approval-environment"): (
        {"version": {"conditions": {"environments": ["dev"]}}},
        {"version": {"conditions": {"environments": ["dev"]}}, "spec": {"environment": "dev"}},
    ),
    ("model-approval", "approval-region"): (
        {"version": {"conditions": {"regions": ["eu-west-1"]}}, "spec": {"region": "eu-west-3"}},
        {"version": {"conditions": {"regions": ["eu-west-1"]}}},
    ),
    ("model-approval", "approval-data-classes"): (
        {"version": {"conditions": {"data_classes": ["internal"]}},
         "spec": {"data_classification": ["internal", "pii"]}},
        {"version": {"conditions": {"data_classes": ["internal"]}}},
    ),
    ("model-approval", "approval-use-case"): (
        {"version": {"conditions": {"use_cases": ["coding-assistant"]}}},
        {"version": {"conditions": {"use_cases": ["coding-assistant"]}},
         "spec": {"use_case": "coding-assistant"}},
    ),
    ("eval-gates", "minimum-eval-scores"): (
        {"version": {"evals": {"humaneval": 40.0}}, "spec": {"use_case": "coding-assistant"}},
        {"version": {"evals": {"humaneval": 72.5}}, "spec": {"use_case": "coding-assistant"}},
    ),
}  # fmt: skip


def test_every_seeded_rule_has_a_case():
    seeded = {(p["slug"], r["rule_id"]) for p in PACKS for r in p["rules"]}
    assert seeded == set(CASES)


@pytest.mark.parametrize("key", sorted(CASES), ids=lambda k: f"{k[0]}/{k[1]}")
def test_seeded_rule_denies_and_allows(packs, approver, key):
    failing, passing = CASES[key]
    assert key in findings(failing, approver)
    assert key not in findings(passing, approver)
