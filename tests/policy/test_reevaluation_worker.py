"""Publishing a policy re-evaluates every deployment in a real Celery worker process."""

from __future__ import annotations

import pytest

from policy.models import Deployment, Policy, ReevaluationJob
from policy.services import rule_create, version_create_draft, version_publish
from tests.conftest import wait_for
from tests.policy.factories import approved_version

pytestmark = pytest.mark.integration


def test_publishing_blocks_newly_denied_deployments_in_the_worker(
    celery_worker_process, packs, approver, make_deployment
):
    version = approved_version(slug="frankfurt-model")
    make_deployment(version, slug="fra", region="eu-central-1")
    make_deployment(version, slug="dub", region="eu-west-1")
    policy = Policy.objects.get(slug="data-residency")
    draft = version_create_draft(actor=approver, policy=policy)
    rule_create(
        actor=approver,
        version=draft,
        rule_id="ireland-only",
        expression="region.code == 'eu-west-1'",
        message="{region.code} is not Ireland",
    )
    version_publish(actor=approver, version=draft)
    job = ReevaluationJob.objects.get()

    def done():
        job.refresh_from_db()
        return job.status in ("succeeded", "failed")

    wait_for(done, timeout=60)
    assert job.status == "succeeded", celery_worker_process.log()
    assert (job.evaluated, job.newly_blocked, job.newly_allowed) == (2, 1, 0)
    assert dict(Deployment.objects.values_list("slug", "status")) == {
        "fra": "blocked",
        "dub": "active",
    }
