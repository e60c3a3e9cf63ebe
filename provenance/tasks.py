from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from audit.context import audit_context

logger = logging.getLogger(__name__)


@shared_task(
    name="provenance.sign_job",
    bind=True,
    max_retries=5,
    retry_backoff=True,
    retry_backoff_max=120,
)
def sign_job(self, job_id: int) -> None:  # type: ignore[no-untyped-def]
    from provenance.services import TRANSIENT_ERRORS, signing_job_fail_unexpected, signing_job_run

    with audit_context(channel="worker:provenance.sign_job"):
        try:
            signing_job_run(job_id=job_id)
        except TRANSIENT_ERRORS as exc:
            # Only named transient errors are retried; the job was given back (queued).
            raise self.retry(exc=exc, countdown=min(120, 2 ** (self.request.retries + 1))) from exc
        except SoftTimeLimitExceeded:
            signing_job_fail_unexpected(
                job_id=job_id, reason="Signing took too long and was stopped."
            )
        except Exception as exc:
            # Anything else is a bug or a broken input: fail the job, keep the worker going.
            logger.exception("signing job %s failed unexpectedly", job_id)
            signing_job_fail_unexpected(
                job_id=job_id, reason=f"Internal error: {exc.__class__.__name__}: {exc}"
            )


@shared_task(name="provenance.sweep_signing_jobs")
def sweep_signing_jobs() -> dict[str, int]:
    from provenance.services import signing_jobs_sweep

    with audit_context(channel="worker:provenance.sweep_signing_jobs"):
        return signing_jobs_sweep()
