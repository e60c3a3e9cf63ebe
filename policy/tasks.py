from __future__ import annotations

from celery import shared_task

from audit.context import audit_context


@shared_task(name="policy.reevaluate_deployments")
def reevaluate_deployments(job_id: int) -> None:
    from policy.services import reevaluation_run

    with audit_context(channel="worker:policy.reevaluate_deployments"):
        reevaluation_run(job_id=job_id)


@shared_task(name="policy.reevaluate_version")
def reevaluate_version(version_id: int) -> None:
    """For the registry to enqueue when an approval is revoked or changed."""
    from policy.services import reevaluate_deployments_for_version

    with audit_context(channel="worker:policy.reevaluate_version"):
        reevaluate_deployments_for_version(version_id)


@shared_task(name="policy.sweep_expired")
def sweep_expired() -> None:
    from policy.services import sweep_expired as sweep

    with audit_context(channel="worker:policy.sweep_expired"):
        sweep()
