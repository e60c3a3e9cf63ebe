"""What every job row (DESIGN.md's job-row pattern) shares: its status, and its claim."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
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


# A job whose worker stopped (killed, or past the hard time limit) is run again at most this
# many times in all; then the sweep fails it rather than run it forever.
MAX_ATTEMPTS = 3


def job_lease() -> timedelta:
    """How long a running job may go unfinished before its worker is taken for dead: longer
    than the hard time limit, past which no worker still runs it."""
    return timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)


def _abandoned(now: Any) -> models.Q:
    return models.Q(status=JobStatus.RUNNING, started_at__lt=now - job_lease())


def claim_queued(model: type[models.Model], pk: Any) -> bool:
    """Move a queued job row to running, counting the attempt, in one conditional UPDATE:
    True for the one task that claims it; a redelivered task (or a job already finished or
    missing) gets False. A job left running past its lease (its worker died) is claimed
    again, up to ``MAX_ATTEMPTS``. The row needs ``status``, ``started_at`` and ``attempts``."""
    now = timezone.now()
    claimable = models.Q(status=JobStatus.QUEUED) | (
        _abandoned(now) & models.Q(attempts__lt=MAX_ATTEMPTS)
    )
    claimed = model._default_manager.filter(claimable, pk=pk).update(
        status=JobStatus.RUNNING, started_at=now, attempts=models.F("attempts") + 1
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


def requeue_stuck(
    model: type[models.Model],
    task: Any,
    *,
    now: Any = None,
    on_abandoned: Callable[[list[Any]], None] | None = None,
) -> int:
    """Publish again every job of ``model`` still queued ``STUCK_AFTER`` after it was made
    (its message was lost or never sent), or left running past its lease (its worker died:
    the redelivered message found it claimed). A job that did run meanwhile is not queued
    any more, and a duplicate message finds the job claimed (``claim_queued``). A job whose
    workers died ``MAX_ATTEMPTS`` times is failed instead, and ``on_abandoned`` gets the ids
    (to record why). How many were sent."""
    now = now or timezone.now()
    manager = model._default_manager
    reason = (
        f"The worker running this job stopped {MAX_ATTEMPTS} times (killed, or over the time "
        "limit); it is not tried again."
    )
    field = "error" if any(f.name == "error" for f in model._meta.fields) else "reason"
    given_up = [
        pk
        for pk in manager.filter(_abandoned(now), attempts__gte=MAX_ATTEMPTS).values_list(
            "pk", flat=True
        )
        # Conditional: a job claimed meanwhile is not failed.
        if manager.filter(_abandoned(now), pk=pk).update(
            status=JobStatus.FAILED, finished_at=now, **{field: reason}
        )
    ]
    if given_up and on_abandoned is not None:
        on_abandoned(given_up)
    stuck = manager.filter(
        models.Q(status=JobStatus.QUEUED, created_at__lte=now - STUCK_AFTER)
        | (_abandoned(now) & models.Q(attempts__lt=MAX_ATTEMPTS))
    )
    return sum(enqueue(task, pk) for pk in stuck.values_list("pk", flat=True))
