"""Signing through the service, read back with c2pa-python against the dev CA."""

from __future__ import annotations

import io

import pytest

from provenance import manifest
from provenance.models import JobStatus, ManifestMode
from provenance.selectors import issued_manifest
from tests.provenance.conftest import upload
from tests.provenance.samples import SAMPLES

pytestmark = pytest.mark.django_db


def _read(job, trust_anchor, sidecar=None):
    with job.output_file.open("rb") as handle:
        data = handle.read()
    return data, manifest.read(
        io.BytesIO(data), job.mime_type, trust_anchors_pem=trust_anchor, sidecar=sidecar
    )


SIDECAR_ONLY = ("bmp", "ogg")  # formats c2pa cannot write a manifest into


@pytest.mark.parametrize("kind", sorted(k for k in SAMPLES if k not in SIDECAR_ONLY))
def test_it_embeds_a_trusted_manifest_naming_the_model(kind, sign_now, version, trust_anchor):
    job = sign_now(upload(kind), watermark=False)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.manifest_mode == ManifestMode.EMBEDDED
    _, reading = _read(job, trust_anchor)
    assert reading.state == "trusted", (reading.validation_state, reading.failure_codes)
    assert reading.active_label == job.manifest_label
    action = manifest.created_action(reading.active_manifest)
    assert action["digitalSourceType"].endswith("/trainedAlgorithmicMedia")
    agent = action["softwareAgent"]
    assert agent["name"] == version.model.name
    assert agent["version"] == version.label
    assert agent["org.steward.provider"] == version.model.provider
    mining = manifest.find_assertion(reading.active_manifest, "cawg.training-mining")
    assert mining["entries"]["cawg.ai_training"]["use"] == "notAllowed"


def test_a_flipped_byte_reads_back_invalid(sign_now, trust_anchor):
    job = sign_now(upload("png"), watermark=False)
    data, _ = _read(job, trust_anchor)
    tampered = bytearray(data)
    idat = data.index(b"IDAT")
    tampered[idat + 20] ^= 0xFF
    reading = manifest.read(
        io.BytesIO(bytes(tampered)), "image/png", trust_anchors_pem=trust_anchor
    )
    assert reading.state == "invalid"
    assert "assertion.dataHash.mismatch" in reading.failure_codes


def test_an_unknown_issuer_reads_back_valid_but_untrusted(sign_now):
    job = sign_now(upload("jpeg"), watermark=False)
    with job.output_file.open("rb") as handle:
        reading = manifest.read(handle, "image/jpeg", trust_anchors_pem=None)
    assert reading.state == "valid-untrusted"
    assert "signingCredential.untrusted" in reading.failure_codes


def test_the_watermark_is_recorded_in_a_steward_assertion_not_a_soft_binding(
    sign_now, trust_anchor
):
    job = sign_now(upload("jpeg"))
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.watermark_id and len(job.watermark_id) == 16
    assert job.watermark_algorithm == "org.steward.dwtDctSvd"
    _, reading = _read(job, trust_anchor)
    assert reading.state == "trusted"
    mark = manifest.find_assertion(reading.active_manifest, "org.steward.watermark")
    assert mark == {"algorithm": "org.steward.dwtDctSvd", "id": job.watermark_id, "bits": 64}
    assert manifest.find_assertion(reading.active_manifest, "c2pa.soft-binding") is None
    labels = [
        a["action"]
        for a in manifest.find_assertion(reading.active_manifest, "c2pa.actions.v2")["actions"]
    ]
    assert "c2pa.watermarked" not in labels
    assert job.timings["watermark_ms"] > 0 and job.timings["sign_ms"] > 0


def test_training_mining_follows_the_job_options(sign_now, trust_anchor):
    job = sign_now(upload("wav"), training_mining="allowed")
    _, reading = _read(job, trust_anchor)
    mining = manifest.find_assertion(reading.active_manifest, "cawg.training-mining")
    assert {entry["use"] for entry in mining["entries"].values()} == {"allowed"}
    assert job.watermark_note == "not an image: no watermark"


def test_a_heic_image_is_signed_without_a_watermark_and_the_job_says_why(sign_now):
    job = sign_now(upload("heic"))
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert not job.watermark_id and not job.watermark_algorithm
    assert job.watermark_note == "HEIC images cannot be decoded here: no watermark"


def test_a_sidecar_is_issued_when_asked_and_binds_to_the_output(sign_now, trust_anchor):
    job = sign_now(upload("mp3"), embed=False)
    assert job.manifest_mode == ManifestMode.SIDECAR
    with job.manifest_file.open("rb") as handle:
        sidecar = handle.read()
    data, reading = _read(job, trust_anchor, sidecar=sidecar)
    assert reading.state == "trusted"
    assert reading.embedded is False
    assert (
        manifest.read(io.BytesIO(data), "audio/mpeg", trust_anchors_pem=trust_anchor).status
        == "no_manifest"
    )


@pytest.mark.parametrize("kind", SIDECAR_ONLY)
def test_formats_c2pa_cannot_embed_into_get_a_sidecar(kind, sign_now, trust_anchor):
    job = sign_now(upload(kind), watermark=False)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.manifest_mode == ManifestMode.SIDECAR
    assert job.manifest_file.size > 1000
    assert issued_manifest(job)["active_manifest"] == job.manifest_label
    with job.manifest_file.open("rb") as handle:
        sidecar = handle.read()
    data, reading = _read(job, trust_anchor, sidecar=sidecar)
    assert data == SAMPLES[kind][2]()  # the media itself is untouched
    assert reading.state == "trusted", (reading.validation_state, reading.failure_codes)


def test_every_manifest_issued_is_kept(sign_now):
    job = sign_now(upload("gif"))
    assert issued_manifest(job)["active_manifest"] == job.manifest_label
    assert job.manifest_label.startswith("urn:c2pa:")
    assert job.watermark_note.startswith("GIF")
    from audit.models import AuditEvent

    event = AuditEvent.objects.get(action="provenance.signed", target_id=str(job.pk))
    assert event.changes["manifest_label"] == job.manifest_label


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_the_label_recorded_is_the_one_c2pa_reads_from_the_stored_manifest(kind, sign_now):
    """The label is taken from the manifest store's JUMBF boxes, not read back with c2pa:
    it must be what c2pa reads, from the stored store and (when embedded) the signed file."""
    job = sign_now(upload(kind), watermark=False)
    assert job.status == JobStatus.SUCCEEDED, job.error
    with job.manifest_file.open("rb") as handle:
        stored = handle.read()
    assert manifest.store_json(stored)["active_manifest"] == job.manifest_label
    assert manifest.active_label(stored) == job.manifest_label
    if job.manifest_mode == ManifestMode.EMBEDDED:
        with job.output_file.open("rb") as handle:
            reading = manifest.read(handle, job.mime_type, trust_anchors_pem=None)
        assert reading.active_label == job.manifest_label


def test_bytes_that_are_not_a_manifest_store_have_no_label():
    for data in (b"", b"\x00\x00\x00\x08jumb", b"\x00\x00\x00\x10free" + b"\0" * 8, b"x" * 40):
        with pytest.raises(ValueError):
            manifest.active_label(data)


def test_the_manifest_issued_is_read_from_the_stored_store_and_older_readings_are_kept(
    sign_now,
):
    job = sign_now(upload("png"), watermark=False)
    assert job.manifest_json is None  # not read back at signing time any more
    reading = issued_manifest(job)
    assert reading["active_manifest"] == job.manifest_label
    job.manifest_json = {"active_manifest": "urn:c2pa:kept"}  # a job signed before
    assert issued_manifest(job) == {"active_manifest": "urn:c2pa:kept"}


def test_an_unreadable_or_missing_manifest_file_shows_no_manifest(sign_now):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    job = sign_now(upload("png"), watermark=False)
    default_storage.delete(job.manifest_file.name)
    assert issued_manifest(job) is None
    job.manifest_file.save("bad.c2pa", ContentFile(b"not a manifest store"), save=False)
    assert issued_manifest(job) is None


def test_a_run_claims_and_loads_in_one_statement_and_returns_the_row_it_wrote(
    owner, version, credential
):
    """The per-job path stays short: on PostgreSQL the claim also reads the model version and
    the credential, the finish writes the job and its audit event in one statement, and the
    job is not read back (what the run returns matches the row)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from provenance.models import SigningJob
    from provenance.services import SignOptions, signing_job_run, signing_jobs_submit

    (job,) = signing_jobs_submit(
        actor=owner,
        files=[upload("jpeg")],
        model_version_id=version.pk,
        options=SignOptions(watermark=False),
    )
    with CaptureQueriesContext(connection) as queries:
        result = signing_job_run(job_id=job.pk)
    assert result is not None and result.status == JobStatus.SUCCEEDED, result and result.error
    # PostgreSQL: the claim, then the job update with its audit event (the durability barrier
    # runs after commit, which the test's transaction never does). SQLite: the claim, the
    # load, the update, the append (lock, insert, head). Savepoints are the test's own.
    statements = [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == (2 if connection.vendor == "postgresql" else 6), statements
    row = SigningJob.objects.get(pk=job.pk)
    for name in (
        "status",
        "attempts",
        "credential_id",
        "output_sha256",
        "output_size",
        "manifest_label",
        "manifest_mode",
        "manifest_json",
        "started_at",
        "finished_at",
        "timings",
        "error",
    ):
        assert getattr(result, name) == getattr(row, name), name
    assert result.output_file.name == row.output_file.name
    assert result.manifest_file.name == row.manifest_file.name
    assert result.model_version.model.name == version.model.name


def test_a_run_that_lost_its_claim_while_signing_keeps_nothing(
    owner, version, credential, monkeypatch
):
    """Another worker took the job over (the lease ran out) while this one was signing: this
    attempt writes neither the job nor an audit event, and deletes what it made."""
    from django.core.files.storage import default_storage

    from audit.models import AuditEvent
    from provenance.models import SigningJob
    from provenance.services import SignOptions, signing, signing_job_run, signing_jobs_submit

    (job,) = signing_jobs_submit(
        actor=owner,
        files=[upload("jpeg")],
        model_version_id=version.pk,
        options=SignOptions(watermark=False),
    )
    real_sign_media = signing.sign_media
    made = []

    def sign_then_lose_the_claim(**kwargs):
        result = real_sign_media(**kwargs)
        SigningJob.objects.filter(pk=job.pk).update(attempts=5)  # the other worker's claim
        made.append(result)
        return result

    monkeypatch.setattr(signing, "sign_media", sign_then_lose_the_claim)
    result = signing_job_run(job_id=job.pk)
    assert result is not None and result.status == JobStatus.RUNNING and result.attempts == 5
    assert not result.output_file and not result.output_sha256
    assert not AuditEvent.objects.filter(action="provenance.signed").exists()
    signed_dir = f"provenance/signed/{job.pk}/1"
    assert not default_storage.exists(signed_dir) or default_storage.listdir(signed_dir) == (
        [],
        [],
    )
    assert made


def test_a_job_whose_credential_was_deactivated_fails_with_the_reason(owner, version, credential):
    from provenance.models import SigningCredential
    from provenance.services import SignOptions, signing_job_run, signing_jobs_submit

    (job,) = signing_jobs_submit(
        actor=owner, files=[upload("png")], model_version_id=version.pk, options=SignOptions()
    )
    SigningCredential.objects.update(is_active=False)
    result = signing_job_run(job_id=job.pk)
    assert result is not None
    assert result.status == JobStatus.FAILED
    assert result.error == "No active signing credential."
    assert not result.output_file


def test_the_claim_and_the_finish_are_prepared_statements(owner, version, credential):
    """PostgreSQL plans the claim and the finish (job update + audit event) once per
    connection: planning them took longer than running them."""
    from django.db import connection

    from provenance.services import SignOptions, signing_job_run, signing_jobs_submit

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL-only behaviour")
    for _ in range(2):
        (job,) = signing_jobs_submit(
            actor=owner,
            files=[upload("jpeg")],
            model_version_id=version.pk,
            options=SignOptions(watermark=False),
        )
        assert signing_job_run(job_id=job.pk).status == JobStatus.SUCCEEDED
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement FROM pg_prepared_statements WHERE statement LIKE 'WITH nosync%%' "
            "OR statement LIKE 'WITH changed AS (UPDATE \"provenance_signingjob\"%%'"
        )
        assert len(cursor.fetchall()) == 2


def test_a_job_whose_workers_keep_dying_is_failed_not_started_again(
    owner, version, credential, settings
):
    """A file that kills the signer would take worker after worker down: once a job has been
    started PROVENANCE_JOB_MAX_ATTEMPTS times without finishing, a redelivered task no longer
    takes it over and the sweep fails it, with the reason and an audit event."""
    import datetime as dt

    from django.utils import timezone

    from audit.models import AuditEvent
    from provenance.models import SigningJob
    from provenance.services import SignOptions, signing_job_run, signing_jobs_submit
    from provenance.services.jobs import signing_jobs_sweep

    settings.PROVENANCE_JOB_MAX_ATTEMPTS = 3
    (job,) = signing_jobs_submit(
        actor=owner, files=[upload("jpeg")], model_version_id=version.pk, options=SignOptions()
    )
    long_ago = timezone.now() - dt.timedelta(seconds=settings.PROVENANCE_JOB_LEASE_SECONDS + 5)
    # The third worker to take it died mid-sign too.
    SigningJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, attempts=3, started_at=long_ago
    )
    redelivered = signing_job_run(job_id=job.pk)
    assert redelivered is not None
    assert (redelivered.status, redelivered.attempts) == (JobStatus.RUNNING, 3)
    assert signing_jobs_sweep()["failed"] == 1
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "Started 3 times and never finished" in job.error
    event = AuditEvent.objects.get(action="provenance.sign_failed", target_id=str(job.pk))
    assert event.changes["attempt"] == 3
    assert signing_jobs_sweep()["failed"] == 0  # once

    # One attempt fewer: the job is taken over and signed.
    (other,) = signing_jobs_submit(
        actor=owner, files=[upload("jpeg")], model_version_id=version.pk, options=SignOptions()
    )
    SigningJob.objects.filter(pk=other.pk).update(
        status=JobStatus.RUNNING, attempts=2, started_at=long_ago
    )
    signed = signing_job_run(job_id=other.pk, watermark=False)
    assert signed is not None and signed.status == JobStatus.SUCCEEDED and signed.attempts == 3
