from __future__ import annotations

from celery import shared_task

from audit.context import audit_context


@shared_task(name="audit.run_chain_verification")
def run_chain_verification(verification_id: int) -> None:
    from audit.services import chain_verification_run

    with audit_context(channel="worker:audit.run_chain_verification"):
        chain_verification_run(verification_id=verification_id)


@shared_task(name="audit.run_export")
def run_export(export_id: int) -> None:
    from audit.services import export_run

    with audit_context(channel="worker:audit.run_export"):
        export_run(export_id=export_id)


@shared_task(name="audit.create_checkpoint")
def create_checkpoint() -> None:
    from audit.services import checkpoint_periodic

    with audit_context(channel="worker:audit.create_checkpoint"):
        checkpoint_periodic()


@shared_task(name="audit.sweep_queued_jobs")
def sweep_queued_jobs() -> None:
    from audit.services import queued_jobs_sweep

    with audit_context(channel="worker:audit.sweep_queued_jobs"):
        queued_jobs_sweep()
