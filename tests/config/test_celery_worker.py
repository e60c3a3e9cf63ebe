"""A real Celery worker process runs a job end to end (not eager)."""

from __future__ import annotations

import pytest

from audit.models import ChainVerification, JobStatus
from audit.services import chain_verification_request, record_event
from tests.conftest import wait_for

pytestmark = pytest.mark.integration


def test_a_real_worker_runs_the_job_and_records_its_outcome(celery_worker_process, auditor):
    record_event(actor=auditor, action="test.before")
    job = chain_verification_request(actor=auditor)
    assert job.status == JobStatus.QUEUED

    def done():
        job.refresh_from_db()
        return job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)

    wait_for(done, timeout=60)
    assert job.status == JobStatus.SUCCEEDED, celery_worker_process.log()
    assert job.ok is True
    assert job.attempts == 1
    assert job.last_seq is not None and job.last_seq >= 2
    # The worker's own event is in the chain, attributed to the worker.
    from audit.models import AuditEvent

    event = AuditEvent.objects.get(action="audit.verified")
    assert event.actor_type == "worker"
    assert (
        "succeeded" not in celery_worker_process.log()
        or "Task audit.run_chain_verification" in celery_worker_process.log()
    )


def test_a_redelivered_task_does_the_work_once(celery_worker_process, auditor):
    from audit.services import chain_verification_run

    job = ChainVerification.objects.create(requested_by=auditor)
    chain_verification_run(verification_id=job.pk)
    # A second delivery of the same task finds the job claimed and does nothing.
    chain_verification_run(verification_id=job.pk)
    job.refresh_from_db()
    assert job.attempts == 1
    from audit.models import AuditEvent

    assert AuditEvent.objects.filter(action="audit.verified").count() == 1
