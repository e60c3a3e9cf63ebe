"""Real worker processes: end to end, SIGKILL mid-sign, and a broker that is down at submit."""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from audit.models import AuditEvent
from provenance import manifest
from provenance.models import JobStatus, SigningJob
from provenance.services import signing_jobs_sweep
from tests.conftest import WorkerProcess, app_broker, purge_broker, wait_for
from tests.provenance.conftest import upload
from tests.provenance.samples import image_bytes

pytestmark = pytest.mark.integration

ON_REDIS = settings.CELERY_BROKER_URL.startswith("redis://")


def _job_after(job_id: int, *states: str, timeout: float = 60) -> SigningJob:
    def done() -> SigningJob | None:
        job = SigningJob.objects.get(pk=job_id)
        return job if job.status in states else None

    return wait_for(done, timeout=timeout, interval=0.1)


@pytest.fixture
def sign_client(bearer, owner):
    return bearer(owner, "provenance:sign")


def _submit(client, version, *files, **extra) -> list[int]:
    response = client.post(
        "/api/v1/provenance/sign/",
        {"files": list(files), "model_version": version.pk, **extra},
        format="multipart",
    )
    assert response.status_code == 202, response.json()
    return [job["id"] for job in response.json()["jobs"]]


def test_a_real_worker_signs_a_batch(
    celery_worker_process, sign_client, version, credential, trust_anchor
):
    ids = _submit(sign_client, version, upload("jpeg"), upload("mp3"))
    for job_id in ids:
        job = _job_after(job_id, JobStatus.SUCCEEDED, JobStatus.FAILED)
        assert job.status == JobStatus.SUCCEEDED, (job.error, celery_worker_process.log())
        assert job.attempts == 1
        with job.output_file.open("rb") as handle:
            reading = manifest.read(handle, job.mime_type, trust_anchors_pem=trust_anchor)
        assert reading.state == "trusted"
    event = AuditEvent.objects.filter(action="provenance.signed").first()
    assert event is not None and event.actor_type == "worker"
    # The worker survives a job that fails: a revoked credential key is one such failure.
    assert "Traceback" not in celery_worker_process.log()


def _slow_image() -> SimpleUploadedFile:
    # About 2.5 MP: the watermark takes seconds, long enough to kill the worker mid-sign.
    return SimpleUploadedFile("big.jpg", image_bytes("JPEG", 1800, 1400, quality=90), "image/jpeg")


def _killed_mid_sign(worker: WorkerProcess, job_id: int) -> None:
    _job_after(job_id, JobStatus.RUNNING, timeout=60)
    time.sleep(0.5)
    worker.kill()
    job = SigningJob.objects.get(pk=job_id)
    assert job.status == JobStatus.RUNNING, "the job finished before the kill; use a larger image"


@pytest.fixture
def short_leases(monkeypatch, settings):
    # Worker processes read these from their environment; this process from settings.
    monkeypatch.setenv("CELERY_VISIBILITY_TIMEOUT", "4")
    monkeypatch.setenv("CELERY_UNACKED_RESTORE_INTERVAL", "1")
    monkeypatch.setenv("CELERY_UNACKED_RESTORE_THROTTLE", "1")
    monkeypatch.setenv("PROVENANCE_JOB_LEASE_SECONDS", "3")
    settings.PROVENANCE_JOB_LEASE_SECONDS = 3


@pytest.mark.skipif(
    not ON_REDIS,
    reason="the filesystem transport deletes a message when it is delivered, so a killed "
    "worker's task is never redelivered; the sweep test covers recovery there",
)
def test_a_worker_killed_mid_sign_is_redelivered_and_signs_once(
    transactional_db, short_leases, tmp_path, sign_client, version, credential
):
    purge_broker()
    first = WorkerProcess(tmp_path / "w1.log").start()
    try:
        (job_id,) = _submit(sign_client, version, _slow_image())
        _killed_mid_sign(first, job_id)
        second = WorkerProcess(tmp_path / "w2.log").start()
        try:
            job = _job_after(job_id, JobStatus.SUCCEEDED, JobStatus.FAILED, timeout=90)
        finally:
            second.stop()
    finally:
        first.stop()
    assert job.status == JobStatus.SUCCEEDED, (job.error, (tmp_path / "w2.log").read_text())
    assert job.attempts == 2
    assert AuditEvent.objects.filter(action="provenance.signed", target_id=str(job_id)).count() == 1
    assert job.output_file.name.startswith(f"provenance/signed/{job_id}/2/")


def test_a_job_whose_worker_died_is_swept_back_and_signed_once(
    transactional_db, short_leases, tmp_path, sign_client, version, credential
):
    purge_broker()
    first = WorkerProcess(tmp_path / "w1.log").start()
    try:
        (job_id,) = _submit(sign_client, version, _slow_image())
        _killed_mid_sign(first, job_id)
    finally:
        first.stop()
    purge_broker()  # whatever the broker still holds, the sweep alone must bring the job back
    time.sleep(3.2)
    assert signing_jobs_sweep() == {"released": 1, "failed": 0, "enqueued": 1, "waiting": 1}
    second = WorkerProcess(tmp_path / "w2.log").start()
    try:
        job = _job_after(job_id, JobStatus.SUCCEEDED, JobStatus.FAILED, timeout=90)
    finally:
        second.stop()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.attempts == 2
    assert AuditEvent.objects.filter(action="provenance.signed", target_id=str(job_id)).count() == 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateRedis:
    """A redis-server of our own on a free port, which the test may stop and start."""

    def __init__(self, directory: Path) -> None:
        self.port = _free_port()
        self.directory = directory
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def up() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return True
            except OSError:
                return False

        wait_for(up, timeout=10, interval=0.05)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs the redis-server binary")
def test_a_job_submitted_while_the_broker_is_down_is_not_lost(
    transactional_db, tmp_path, settings, sign_client, version, credential
):
    redis = PrivateRedis(tmp_path)
    redis.start()
    try:
        with app_broker(redis.url):
            redis.stop()
            started = time.monotonic()
            (job_id,) = _submit(sign_client, version, upload("png"))
            assert time.monotonic() - started < 15
            job = SigningJob.objects.get(pk=job_id)
            assert job.status == JobStatus.QUEUED
            assert job.enqueued_at is None

            redis.start()
            settings.CELERY_BROKER_URL = redis.url  # what worker processes are given
            worker = WorkerProcess(tmp_path / "w.log").start()
            try:
                later = timezone.now() + dt.timedelta(minutes=1)
                assert signing_jobs_sweep(now=later)["enqueued"] == 1
                job = _job_after(job_id, JobStatus.SUCCEEDED, JobStatus.FAILED)
            finally:
                worker.stop()
    finally:
        redis.stop()
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.attempts == 1
