"""The REST API: submit, status, download, verify; refusals and bad input end in clear 4xx."""

from __future__ import annotations

import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from provenance.models import JobStatus, SigningJob
from provenance.services import signing_job_run
from registry.models import VersionStatus
from tests.provenance.conftest import upload
from tests.provenance.factories import ModelVersionFactory, approved_version
from tests.provenance.samples import SAMPLES, image_bytes

pytestmark = pytest.mark.django_db

SIGN = "/api/v1/provenance/sign/"


@pytest.fixture
def client(bearer, owner):
    return bearer(owner, "provenance:sign")


def _post(client, version, *files, **extra):
    return client.post(
        SIGN, {"files": list(files), "model_version": version.pk, **extra}, format="multipart"
    )


def test_it_accepts_a_batch_and_answers_202_with_status_urls(client, version, credential):
    response = _post(
        client, version, upload("jpeg"), upload("wav"), upload("pdf"), deployment="web-prod"
    )
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["batch"]
    assert len(body["jobs"]) == 3
    assert {job["status"] for job in body["jobs"]} == {"queued"}
    assert response["Location"] == body["jobs"][0]["status_url"]
    first = body["jobs"][0]
    assert first["mime_type"] == "image/jpeg"
    assert first["deployment_ref"] == "web-prod"
    assert len(first["input_sha256"]) == 64
    status = client.get(first["status_url"])
    assert status.status_code == 200
    assert status.json()["status"] == "queued"


def test_a_finished_job_can_be_downloaded_with_its_manifest(client, version, credential):
    response = _post(client, version, upload("png"), watermark="false")
    job_id = response.json()["jobs"][0]["id"]
    signing_job_run(job_id=job_id)
    detail = client.get(f"/api/v1/provenance/jobs/{job_id}/").json()
    assert detail["status"] == "succeeded"
    assert detail["manifest_mode"] == "embedded"
    assert detail["manifest"]["active_manifest"] == detail["manifest_label"]
    # Read without the asset, the store cannot be validated: no "Invalid" on a signed job.
    assert "validation_state" not in detail["manifest"]
    assert "validation_results" not in detail["manifest"]
    download = client.get(detail["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "image/png"
    data = b"".join(download.streaming_content)
    import hashlib

    assert hashlib.sha256(data).hexdigest() == detail["output_sha256"]
    sidecar = client.get(detail["manifest_url"])
    assert sidecar.status_code == 200
    assert sidecar["Content-Type"] == "application/c2pa"


def test_download_before_the_job_finishes_is_a_conflict(client, version, credential):
    job_id = _post(client, version, upload("png")).json()["jobs"][0]["id"]
    response = client.get(f"/api/v1/provenance/jobs/{job_id}/download/")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


@pytest.mark.parametrize(
    "status", [VersionStatus.DRAFT, VersionStatus.SUBMITTED, VersionStatus.REVOKED]
)
def test_signing_for_a_version_that_is_not_approved_is_refused_and_audited(
    client, credential, status
):
    version = ModelVersionFactory(status=status)
    response = _post(client, version, upload("jpeg"))
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "model_version_not_approved"
    assert "not approved" in error["message"]
    assert not SigningJob.objects.exists()
    event = AuditEvent.objects.get(action="provenance.sign_refused")
    assert event.outcome == "denied"
    assert event.target_id == str(version.pk)


def test_signing_for_an_expired_approval_is_refused(client, credential):
    from django.utils import timezone

    version = approved_version(expires_at=timezone.now() - timezone.timedelta(days=1))
    response = _post(client, version, upload("jpeg"))
    assert response.status_code == 409
    assert "expired" in response.json()["error"]["message"]


def test_a_version_revoked_after_submission_is_not_signed(client, version, credential):
    job_id = _post(client, version, upload("png")).json()["jobs"][0]["id"]
    version.status = VersionStatus.REVOKED
    version.save()
    job = signing_job_run(job_id=job_id)
    assert job.status == JobStatus.FAILED
    assert "no longer approved" in job.error
    assert AuditEvent.objects.filter(
        action="provenance.sign_refused", target_id=str(job_id)
    ).exists()


def test_an_unknown_model_version_is_422(client, credential):
    response = client.post(
        SIGN, {"files": [upload("png")], "model_version": 999999}, format="multipart"
    )
    assert response.status_code == 422
    assert "model_version" in response.json()["error"]["fields"]


def _png_bomb(width: int, height: int) -> bytes:
    """A 1-bit PNG whose header declares a huge canvas: a few KB on disk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = b"\x00" + bytes((width + 7) // 8)
    raw = zlib.compress(row * 64, 9)  # the rows are never reached: the header is refused first
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


def _truncated_jpeg() -> bytes:
    data = image_bytes("JPEG", 256, 256)
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    ("name", "data", "content_type", "status", "code"),
    [
        ("empty.jpg", b"", "image/jpeg", 422, "empty_file"),
        ("half.jpg", _truncated_jpeg(), "image/jpeg", 422, "truncated_file"),
        ("photo.png", image_bytes("JPEG"), "image/png", 422, "content_type_mismatch"),
        (
            "notes.txt",
            b"just some text, not media\n" * 10,
            "text/plain",
            415,
            "unsupported_media_type",
        ),
        ("bomb.png", _png_bomb(30000, 30000), "image/png", 422, "too_many_pixels"),
    ],
)
def test_bad_input_is_a_clear_4xx(
    client, version, credential, name, data, content_type, status, code
):
    response = _post(client, version, SimpleUploadedFile(name, data, content_type))
    assert response.status_code == status, response.json()
    error = response.json()["error"]
    assert error["code"] == code
    assert name in error["message"]
    assert not SigningJob.objects.exists()


@pytest.mark.parametrize("kind", ["mp4", "mov", "m4a", "avif", "wav", "webp", "pdf", "tiff", "bmp"])
def test_a_truncated_file_is_refused_when_submitted(client, version, credential, kind):
    """Not only JPEG and PNG: a cut file of any format whose size the header gives is refused
    at once with its name, instead of a job that fails later on the worker."""
    name, mime, make = SAMPLES[kind]
    data = make()
    response = _post(client, version, upload("png"), SimpleUploadedFile(name, data[:-300], mime))
    assert response.status_code == 422, response.json()
    error = response.json()["error"]
    assert error["code"] == "truncated_file"
    assert list(error["fields"]["files"]) == ["1"]
    assert name in error["message"] and "truncated" in error["message"]
    assert not SigningJob.objects.exists()
    assert _post(client, version, SimpleUploadedFile(name, data, mime)).status_code == 202


def test_one_bad_file_refuses_the_whole_batch(client, version, credential):
    response = _post(client, version, upload("png"), SimpleUploadedFile("e.jpg", b"", "image/jpeg"))
    assert response.status_code == 422
    assert response.json()["error"]["fields"]["files"] == {
        "1": ["e.jpg: The file is empty (0 bytes)."]
    }
    assert not SigningJob.objects.exists()


def test_a_batch_over_the_file_limit_is_a_clear_400(client, version, credential, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 3
    response = _post(client, version, *(upload("wav") for _ in range(4)))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "too_many_files"
    assert "at most 3 files" in error["message"]
    assert not SigningJob.objects.exists()


def test_an_oversized_upload_is_413(client, version, credential, settings):
    settings.STEWARD_MAX_UPLOAD_BYTES = 2000
    response = _post(client, version, upload("png"))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_an_oversized_file_in_a_small_request_is_413(client, version, credential, settings):
    data = image_bytes("PNG")
    settings.STEWARD_MAX_UPLOAD_BYTES = len(data) - 1  # the body passes the framing allowance
    response = _post(client, version, upload("png", data=data))
    assert response.status_code == 413


def test_a_token_without_the_scope_is_403(bearer, owner, version, credential):
    client = bearer(owner, "registry:read")
    assert _post(client, version, upload("png")).status_code == 403


def test_a_viewer_cannot_sign(bearer, viewer, version, credential):
    response = _post(bearer(viewer, "provenance:sign"), version, upload("png"))
    assert response.status_code == 403


def test_jobs_of_others_are_hidden_from_owners_but_not_auditors(
    client, bearer, make_user, auditor, version, credential
):
    job_id = _post(client, version, upload("png")).json()["jobs"][0]["id"]
    other = bearer(make_user("other-owner", ["model_owner"]), "provenance:sign")
    assert other.get(f"/api/v1/provenance/jobs/{job_id}/").status_code == 404
    assert other.get("/api/v1/provenance/jobs/").json()["count"] == 0
    audit_client = bearer(auditor, "provenance:sign")
    assert audit_client.get(f"/api/v1/provenance/jobs/{job_id}/").status_code == 200
    listing = audit_client.get("/api/v1/provenance/jobs/?status=queued").json()
    assert listing["count"] == 1


@pytest.mark.parametrize("value", ["-3.402823466e+38", str(2**63), "0", "1.5", "x"])
def test_a_model_version_filter_that_cannot_be_an_id_is_400(client, version, credential, value):
    # Found by the API fuzzer: an id past SQLite's 64-bit range crashed the list (500).
    response = client.get("/api/v1/provenance/jobs/", {"model_version": value})
    assert response.status_code == 400, response.content
    assert "model_version" in response.json()["error"]["fields"]


def test_the_model_version_filter_selects_the_jobs_of_that_version(client, version, credential):
    _post(client, version, upload("png"))
    mine = client.get("/api/v1/provenance/jobs/", {"model_version": version.pk}).json()
    assert mine["count"] == 1
    other = client.get("/api/v1/provenance/jobs/", {"model_version": version.pk + 1000}).json()
    assert other["count"] == 0


def test_verify_endpoint_reports_an_invalid_file_with_its_codes(client, version, credential):
    job_id = _post(client, version, upload("png"), watermark="false").json()["jobs"][0]["id"]
    job = signing_job_run(job_id=job_id)
    data = bytearray(job.output_file.open("rb").read())
    data[data.index(b"IDAT") + 30] ^= 0xFF
    response = client.post(
        "/api/v1/provenance/verify/",
        {"file": SimpleUploadedFile("t.png", bytes(data), "image/png")},
        format="multipart",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["manifest"]["state"] == "invalid"
    assert "assertion.dataHash.mismatch" in body["manifest"]["failure_codes"]
    assert body["job"]["id"] == job_id
    assert body["job"]["model_version"]["id"] == version.pk


def test_verify_of_a_sidecar_signed_file_takes_the_manifest(client, version, credential):
    job_id = _post(client, version, upload("wav"), embed="false").json()["jobs"][0]["id"]
    job = signing_job_run(job_id=job_id)
    response = client.post(
        "/api/v1/provenance/verify/",
        {
            "file": SimpleUploadedFile("a.wav", job.output_file.open("rb").read(), "audio/wav"),
            "manifest": SimpleUploadedFile("a.c2pa", job.manifest_file.open("rb").read()),
        },
        format="multipart",
    )
    body = response.json()
    assert body["manifest"]["state"] == "trusted", body
    assert body["manifest"]["embedded"] is False


def test_a_signed_flac_is_still_flac(client, version, credential):
    """c2pa writes a FLAC manifest as an ID3 tag in front of ``fLaC``: Steward's own output
    must not be taken for an MP3 (refused as mistyped, or signed with the MP3 writer)."""
    job = signing_job_run(job_id=_post(client, version, upload("flac")).json()["jobs"][0]["id"])
    assert job.status == JobStatus.SUCCEEDED, job.error
    signed = job.output_file.open("rb").read()
    assert signed.startswith(b"ID3")

    verified = client.post(
        "/api/v1/provenance/verify/",
        {"file": SimpleUploadedFile("song.flac", signed, "audio/flac")},
        format="multipart",
    ).json()
    assert verified["mime_type"] == "audio/flac"
    assert verified["manifest"]["state"] == "trusted", verified

    again = _post(client, version, upload("flac", data=signed))
    assert again.status_code == 202, again.json()
    resigned = signing_job_run(job_id=again.json()["jobs"][0]["id"])
    assert (resigned.mime_type, resigned.status) == ("audio/flac", JobStatus.SUCCEEDED)


def test_verify_of_an_empty_file_is_422(client, credential):
    response = client.post(
        "/api/v1/provenance/verify/", {"file": SimpleUploadedFile("e.png", b"")}, format="multipart"
    )
    assert response.status_code == 422


def test_the_schema_documents_the_provenance_endpoints(api_client):
    schema = api_client.get("/api/schema/?format=json").json()
    assert "/api/v1/provenance/sign/" in schema["paths"]
    assert (
        "multipart/form-data"
        in schema["paths"]["/api/v1/provenance/sign/"]["post"]["requestBody"]["content"]
    )
