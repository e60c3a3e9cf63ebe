from __future__ import annotations

import logging

from celery import shared_task

from audit.context import audit_context

logger = logging.getLogger(__name__)


@shared_task(name="registry.expire_approvals")
def expire_approvals() -> int:
    """Periodic sweep: record ``model_version.approval_expired`` once per expired approval.
    Each approval is claimed with a conditional UPDATE, so overlapping runs are harmless."""
    from registry.services import expire_approvals as sweep

    with audit_context(channel="worker:registry.expire_approvals"):
        expired = sweep(actor=None)
    if expired:
        logger.info("approvals expired: %s", ", ".join(str(v.pk) for v in expired))
    return len(expired)
