from __future__ import annotations

import pytest
from django.core.management import call_command

from audit.models import AuditEvent
from registry.models import AIModel, VersionStatus
from registry.selectors import version_facts

pytestmark = pytest.mark.django_db

SLUGS = {
    "gpt-4-1",
    "claude-3-5-sonnet",
    "gemini-1-5-pro",
    "gemini-2-0-flash",
    "llama-3-1-8b-instruct",
    "llama-3-1-70b-instruct",
    "llama-3-2-11b-vision-instruct",
    "mistral-7b-instruct",
    "mixtral-8x7b-instruct",
    "qwen2-5-7b-instruct",
    "qwen2-5-72b-instruct",
    "phi-3-mini-4k-instruct",
    "gemma-2-9b-it",
    "deepseek-v3",
    "qwen2-5-coder-7b-instruct",
}


def _facts(slug: str) -> dict:
    return version_facts(AIModel.objects.get(slug=slug).versions.get())


def test_the_demo_registry_has_the_agreed_models_and_states():
    call_command("seed_demo")
    assert set(AIModel.objects.values_list("slug", flat=True)) == SLUGS
    expect = {
        "llama-3-1-70b-instruct": "pending",
        "mixtral-8x7b-instruct": "pending",
        "deepseek-v3": "rejected",
        "gemini-1-5-pro": "expired",
        "qwen2-5-72b-instruct": "changes_requested",
        "phi-3-mini-4k-instruct": "none",
        "gemma-2-9b-it": "none",
        "mistral-7b-instruct": "approved",
    }
    for slug, status in expect.items():
        assert _facts(slug)["approval"]["status"] == status, slug
    llama = _facts("llama-3-1-8b-instruct")["approval"]
    assert (
        llama["conditions"]["jurisdictions"] == ["EU"]
        and "phi" not in llama["conditions"]["data_classes"]
    )
    assert llama["expires_at"] is not None
    assert _facts("qwen2-5-coder-7b-instruct")["approval"]["conditions"]["use_cases"] == [
        "coding-assistant"
    ]
    assert _facts("mistral-7b-instruct")["approval"]["conditions"] == {
        k: [] for k in ("environments", "regions", "jurisdictions", "data_classes", "use_cases")
    }
    vision = _facts("llama-3-2-11b-vision-instruct")
    assert (
        vision["license"]["territorial_restrictions"] == ["EU"] and vision["approval"]["in_force"]
    )
    assert _facts("llama-3-1-8b-instruct")["license"]["user_threshold_mau"] == 700_000_000
    assert _facts("qwen2-5-72b-instruct")["license"]["user_threshold_mau"] == 100_000_000
    assert AuditEvent.objects.filter(action="model_version.approval_expired").count() == 1
    for model in AIModel.objects.prefetch_related("versions__evals"):
        for version in model.versions.all():
            evals = list(version.evals.all())
            assert evals and all(e.evidence_url.startswith("https://") for e in evals), model.slug
    # Deciders are never the requesters.
    from registry.models import Approval

    for approval in Approval.objects.exclude(decided_by=None):
        assert approval.decided_by_id != approval.requested_by_id
    assert AIModel.objects.get(slug="deepseek-v3").versions.get().status == VersionStatus.REJECTED
