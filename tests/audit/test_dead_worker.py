"""An export whose worker died mid-run: its redelivered message finds it claimed, so the sweep
takes it over once its lease ran out, and gives up after a few deaths instead of looping."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from audit.models import AuditEvent, JobStatus, ReportExport
from audit.services import export_request, export_run, queued_jobs_sweep
from config.jobs import MAX_ATTEMPTS, claim_queued, job_lease

pytestmark = pytest.mark.django_db


class Published:
    """Stands in for the broker: records what the sweep publishes."""

    def __init__(self) -> None:
        self.ids: list[int] = []

    def __call__(self, task: Any, job_id: Any) -> bool:
        self.ids.append(job_id)
        return True


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> Published:
    sink = Published()
    monkeypatch.setattr("config.jobs.enqueue", sink)
    return sink


def _worker_died(export: ReportExport) -> None:
    """A worker claimed the export and was killed: the row stays running."""
    assert claim_queued(ReportExport, export.pk)
    assert export_run(export_id=export.pk).status == JobStatus.RUNNING  # the redelivery
    past_lease = dt.timedelta(seconds=job_lease().total_seconds() + 5)
    ReportExport.objects.filter(pk=export.pk).update(
        started_at=export.created_at - past_lease, created_at=export.created_at - past_lease
    )


def test_an_export_whose_worker_died_is_run_again_after_its_lease(
    auditor, some_events, published, django_capture_on_commit_callbacks
):
    some_events(3)
    export = export_request(actor=auditor, format="jsonl", filters={})
    _worker_died(export)

    queued_jobs_sweep()
    assert published.ids == [export.pk]
    with django_capture_on_commit_callbacks(execute=True):
        export_run(export_id=export.pk)
    export.refresh_from_db()
    assert (export.status, export.attempts) == (JobStatus.SUCCEEDED, 2), export.error
    assert export.bundle_sha256


def test_a_job_running_within_its_lease_is_left_alone(auditor, some_events, published):
    some_events(2)
    export = export_request(actor=auditor, format="csv", filters={})
    assert claim_queued(ReportExport, export.pk)
    assert not claim_queued(ReportExport, export.pk), "a live worker's job is not taken"
    queued_jobs_sweep()
    assert published.ids == []


def test_an_export_whose_workers_keep_dying_is_failed_and_audited(auditor, some_events, published):
    some_events(2)
    export = export_request(actor=auditor, format="pdf", filters={})
    _worker_died(export)
    ReportExport.objects.filter(pk=export.pk).update(attempts=MAX_ATTEMPTS)
    assert not claim_queued(ReportExport, export.pk)

    queued_jobs_sweep()
    assert published.ids == []
    export.refresh_from_db()
    assert export.status == JobStatus.FAILED
    assert "stopped" in export.error and export.finished_at
    event = AuditEvent.objects.get(action="audit.export_failed", target_id=str(export.pk))
    assert event.outcome == "failure"


def test_the_sweep_removes_the_work_folder_a_dead_export_left(settings, published):
    import os
    import time

    from audit.exports.bundle import remove_abandoned_work_dirs

    out_dir = settings.STEWARD_AUDIT_EXPORT_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    dead, live = out_dir / "export-7-abc123", out_dir / "export-8-def456"
    for work in (dead, live):
        work.mkdir()
        (work / "events.jsonl").write_text("{}\n")
    old = time.time() - job_lease().total_seconds() - 60
    for path in (dead / "events.jsonl", dead):
        os.utime(path, (old, old))
    (out_dir / "steward-audit-export-7.zip").write_bytes(b"a finished bundle")

    queued_jobs_sweep()
    assert not dead.exists()
    assert live.exists(), "a folder an export may still be writing is kept"
    assert (out_dir / "steward-audit-export-7.zip").exists()
    assert remove_abandoned_work_dirs(job_lease().total_seconds()) == 0
