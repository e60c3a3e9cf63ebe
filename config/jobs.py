"""What every job row (DESIGN.md's job-row pattern) shares: its status, and its claim."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import models
from django.utils import timezone

logger = logging.getLogger(__name__)

# A queued job older than this whose task never reached the broker is published again.
STUCK_AFTER = timedelta(minutes=5)


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


def claim_queued(model: type[models.Model], pk: Any) -> bool:
    """Move a queued job row to running, counting the attempt, in one conditional UPDATE:
    True for the one task that claims it; a redelivered task (or a job already finished or
    missing) gets False. The row needs ``status``, ``started_at`` and ``attempts``."""
    claimed = model._default_manager.filter(pk=pk, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=timezone.now(), attempts=models.F("attempts") + 1
    )
    return bool(claimed)


def enqueue(task: Any, job_id: Any) -> bool:
    """Publish ``task(job_id)`` for a job row that is committed already. A broker outage is
    not the caller's error (the request that made the job does not fail): the row stays
    queued and a periodic sweep (``requeue_stuck``, or the app's own) publishes it again."""
    try:
        task.delay(job_id)
    except Exception as exc:  # kombu raises many kinds when the broker is away
        logger.warning(
            "could not enqueue %s(%s); the periodic sweep will retry: %s", task.name, job_id, exc
        )
        return False
    return True


def requeue_stuck(model: type[models.Model], task: Any, *, now: Any = None) -> int:
    """Publish again every job of ``model`` still queued ``STUCK_AFTER`` after it was made
    (its message was lost or never sent). A job that did run meanwhile is not queued any more,
    and a duplicate message finds the job claimed (``claim_queued``). How many were sent."""
    cutoff = (now or timezone.now()) - STUCK_AFTER
    stuck = model._default_manager.filter(status=JobStatus.QUEUED, created_at__lte=cutoff)
    return sum(enqueue(task, pk) for pk in stuck.values_list("pk", flat=True))
