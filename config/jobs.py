"""What every job row (DESIGN.md's job-row pattern) shares: its status, and its claim."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone


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
