"""A verification or export requested while the broker is down: the request still succeeds,
the job stays queued, and the periodic sweep publishes it once the broker is back."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from audit.models import ChainVerification, ReportExport
from audit.services import queued_jobs_sweep
from config.jobs import JobStatus
from tests.conftest import app_broker, purge_broker

pytestmark = pytest.mark.django_db

# Nothing listens on port 1: publishing fails as with a broker that is down.
DOWN = "redis://127.0.0.1:1/0"


def test_jobs_requested_while_the_broker_is_down_are_kept_and_swept_later(
    auditor, bearer, client, django_capture_on_commit_callbacks
):
    api = bearer(auditor, "audit:read", "audit:export")
    client.force_login(auditor)
    with app_broker(DOWN):
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            export = api.post("/api/v1/audit/exports/", {"format": "jsonl"}, format="json")
        with django_capture_on_commit_callbacks(execute=True):
            verification = client.post("/audit/verify/")  # the explorer's button
        assert time.monotonic() - started < 30
        assert export.status_code == 202, export.content
        assert verification.status_code == 302
        jobs = [ReportExport.objects.get(pk=export.json()["id"]), ChainVerification.objects.get()]
        assert [job.status for job in jobs] == [JobStatus.QUEUED] * 2
        later = dt.timedelta(minutes=10)
        for job in jobs:  # old enough to count as stuck
            type(job).objects.filter(pk=job.pk).update(created_at=job.created_at - later)
        assert queued_jobs_sweep() == 0  # still down: nothing sent, nothing raised

    purge_broker()
    try:
        assert queued_jobs_sweep() == 2  # the broker is back: both published again
    finally:
        purge_broker()
