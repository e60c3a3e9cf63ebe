"""A real Celery worker builds an export requested through the API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from steward_client.verify import verify_bundle

from audit.keys import signing_key
from audit.models import JobStatus, ReportExport
from tests.conftest import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def audit_dirs() -> Iterator[None]:
    """The worker process reads the directories from its environment (test settings), so
    this test keeps the suite's folders — and removes the checkpoints it published there,
    which would not match the next test's (flushed) database."""
    folder = Path(settings.STEWARD_AUDIT_CHECKPOINT_DIR)
    before = set(folder.glob("*.json"))
    yield
    for path in set(folder.glob("*.json")) - before:
        path.unlink()


def test_a_worker_builds_a_signed_export(
    celery_worker_process, auditor, bearer, some_events, tmp_path
):
    client = bearer(auditor, "audit:export", "audit:read")
    some_events(3)
    created = client.post("/api/v1/audit/exports/", {"format": "ocsf"})
    assert created.status_code == 202
    export = ReportExport.objects.get(pk=created.json()["id"])

    def finished() -> bool:
        export.refresh_from_db()
        return export.is_finished

    wait_for(finished, timeout=60)
    assert export.status == JobStatus.SUCCEEDED, celery_worker_process.log()
    assert (export.progress, export.count) == (100, 5)
    download = client.get(f"/api/v1/audit/exports/{export.pk}/download/")
    path = tmp_path / "bundle.zip"
    path.write_bytes(b"".join(download.streaming_content))
    assert verify_bundle(str(path), [signing_key().public_key]).ok
    # The export's checkpoint was published outside the database.
    assert list(
        Path(settings.STEWARD_AUDIT_CHECKPOINT_DIR).glob(
            f"checkpoint-{export.checkpoint.seq:012d}-*.json"
        )
    )
