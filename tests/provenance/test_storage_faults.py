"""Faults of the media storage (issue 7): a full disk or an unwritable media folder fails the
signing job with a reason, and nothing partial is ever served."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import storages
from rest_framework.test import APIClient

from provenance.models import JobStatus, SigningJob
from provenance.services.jobs import signing_jobs_submit
from provenance.tasks import sign_job
from tests.provenance.conftest import upload

pytestmark = [pytest.mark.django_db, pytest.mark.faults]


def _submit(owner: Any, version: Any) -> SigningJob:
    (job,) = signing_jobs_submit(actor=owner, files=[upload("png")], model_version_id=version.pk)
    return job


def _assert_failed_and_not_served(job_id: int, owner: Any) -> SigningJob:
    job = SigningJob.objects.get(pk=job_id)
    assert job.status == JobStatus.FAILED
    assert job.error, "a failed job says why"
    assert not job.output_file and not job.output_sha256
    client = APIClient()
    client.force_login(owner)
    download = client.get(f"/api/v1/provenance/jobs/{job.pk}/download/")
    assert 400 <= download.status_code < 500
    assert download.json()["error"]["message"]
    return job


def test_a_full_disk_fails_the_job_with_a_reason_and_serves_nothing(
    settings: Any, owner: Any, version: Any, credential: Any
) -> None:
    job = _submit(owner, version)
    # The input is stored; the disk fills up before the signed output is written.
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "tests.harness.DiskFullStorage"},
    }
    assert type(storages["default"]).__name__ == "_DiskFull"
    # The worker's task, run here: a storage error must end as a failed job, not a crash.
    sign_job.apply(args=(job.pk,))
    failed = _assert_failed_and_not_served(job.pk, owner)
    assert "space" in failed.error.lower() or "storage" in failed.error.lower(), failed.error


def test_an_unwritable_media_folder_fails_the_job_with_a_reason(
    settings: Any, owner: Any, version: Any, credential: Any
) -> None:
    job = _submit(owner, version)
    # Where signed files go is not a directory any more (as after a bad mount).
    media = Path(settings.MEDIA_ROOT)
    for sub in ("provenance/.partial", "provenance/signed"):
        target = media / sub
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"not a directory")
    # The worker's task, run here: a storage error must end as a failed job, not a crash.
    sign_job.apply(args=(job.pk,))
    _assert_failed_and_not_served(job.pk, owner)
