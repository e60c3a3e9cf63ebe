"""A decision on a model version re-evaluates the deployments that use it (registry → policy)."""

from __future__ import annotations

from typing import Any

from policy.models import ReevaluationJob
from policy.services import reevaluation_run
from registry.models import Decision, VersionStatus
from registry.services import version_approve, version_revoke
from tests.policy.factories import (
    AIModelFactory,
    ApprovalFactory,
    EvalResultFactory,
    ModelVersionFactory,
    RiskAssessmentFactory,
    approved_version,
)


def _submitted(requester: Any) -> Any:
    version = ModelVersionFactory(
        model=AIModelFactory(slug="awaiting-model"), status=VersionStatus.SUBMITTED
    )
    ApprovalFactory(
        version=version,
        requested_by=requester,
        decision=Decision.PENDING,
        decided_by=None,
        decided_at=None,
        expires_at=None,
    )
    RiskAssessmentFactory(version=version)
    for benchmark in ("mmlu", "humaneval"):
        EvalResultFactory(version=version, benchmark=benchmark, value=70.0)
    return version


def test_approving_a_version_unblocks_its_denied_deployment_through_a_queued_job(
    packs, owner, approver, make_deployment, django_capture_on_commit_callbacks
):
    version = _submitted(owner)
    deployment = make_deployment(version, slug="waiting-bot", data_classes=["pii"])
    assert deployment.status == "blocked"

    with django_capture_on_commit_callbacks() as enqueued:
        version_approve(
            actor=approver,
            version=version,
            conditions={"jurisdictions": ["EU"], "data_classes": ["internal", "pii"]},
        )
    job = ReevaluationJob.objects.get()
    assert (job.model_version_id, job.status) == (version.pk, "queued")
    assert len(enqueued) == 1  # the task is sent only once the approval is committed

    reevaluation_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.evaluated, job.newly_allowed) == (1, 1)
    deployment.refresh_from_db()
    assert deployment.status == "active"


def test_revoking_an_approval_blocks_its_deployments_through_a_queued_job(
    packs, approver, make_deployment
):
    version = approved_version(slug="revoked-model")
    deployment = make_deployment(version, slug="doomed-bot")
    assert deployment.status == "active"

    version_revoke(actor=approver, version=version, reason="security finding")
    reevaluation_run(job_id=ReevaluationJob.objects.get(model_version=version).pk)
    deployment.refresh_from_db()
    assert deployment.status == "blocked"
    violations = {v["rule"] for v in deployment.last_decision.violations}
    assert "version-approved" in violations


def test_a_decision_on_a_version_no_deployment_uses_queues_nothing(packs, owner, approver):
    version_approve(actor=approver, version=_submitted(owner))
    assert not ReevaluationJob.objects.exists()
