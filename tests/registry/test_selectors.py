from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from registry import services
from registry.models import Approval
from registry.selectors import latest_usable_version, version_facts

pytestmark = pytest.mark.django_db


def test_version_facts_shape_and_constant_queries(approved, django_assert_num_queries):
    with django_assert_num_queries(2):
        facts = version_facts(approved)
    assert set(facts) == {"model", "version", "license", "risk", "approval"}
    assert facts["approval"]["status"] == "approved" and facts["approval"]["in_force"] is True
    assert facts["approval"]["conditions"]["data_classes"] == ["public"]
    assert facts["license"]["spdx_id"] == "Apache-2.0"
    assert facts["risk"]["grade"] in {"low", "medium", "high", "critical"}
    import json

    json.dumps(facts)  # plain JSON


def test_version_facts_report_expiry(approved):
    Approval.objects.filter(version=approved).update(expires_at=timezone.now() - timedelta(1))
    facts = version_facts(approved)
    assert facts["approval"]["status"] == "expired" and facts["approval"]["in_force"] is False


def test_latest_usable_version_skips_expired_and_unapproved(approved, owner, approver):
    model = approved.model
    newer = services.version_create(
        actor=owner, model=model, label="2.0", release_date=timezone.now().date()
    )
    assert latest_usable_version(model) == approved
    services.version_submit(actor=owner, version=newer)
    services.version_approve(
        actor=approver, version=newer, expires_at=timezone.now() + timedelta(days=1)
    )
    assert latest_usable_version(model) == newer
    assert latest_usable_version(model, at=timezone.now() + timedelta(days=2)) == approved
