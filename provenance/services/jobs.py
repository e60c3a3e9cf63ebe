"""Signing jobs: submit, run once, and sweep back jobs that were lost or orphaned."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, cast

import c2pa
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import InterfaceError, OperationalError, connection, models, transaction
from django.utils import timezone
from PIL import Image

from audit.models import Outcome
from audit.services import record_event
from config.exceptions import Conflict, NotAllowed, Unprocessable
from provenance import keys, manifest, media
from provenance.models import (
    JobStatus,
    ManifestMode,
    SigningCredential,
    SigningJob,
    TrainingMining,
)
from provenance.services.credentials import active_credential
from provenance.services.output import SignedOutput, remove_stale_partials
from provenance.watermark import get_backend, new_watermark_id, to_hex
from registry.models import ModelVersion

logger = logging.getLogger(__name__)

SIGN_PERMISSION = "provenance.add_signingjob"
# Errors after which the same task, run again, may well succeed.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)
# A queued job whose message may have been lost is enqueued again after this long.
REQUEUE_AFTER = dt.timedelta(minutes=10)
NEVER_ENQUEUED_AFTER = dt.timedelta(seconds=30)


# --- Submitting -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SignOptions:
    training_mining: str = TrainingMining.NOT_ALLOWED
    watermark: bool = True
    embed: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "training_mining": str(self.training_mining),
            "watermark": self.watermark,
            "embed": self.embed,
        }


def _refuse(actor: Any, version: ModelVersion, reason: str, files: Sequence[UploadedFile]) -> None:
    with transaction.atomic():
        record_event(
            actor=actor,
            action="provenance.sign_refused",
            target=version,
            outcome=Outcome.DENIED,
            changes={
                "reason": reason,
                "status": version.status,
                "files": [f.name for f in files][:50],
            },
        )


def _usable_version(
    actor: Any, model_version_id: int, files: Sequence[UploadedFile]
) -> ModelVersion:
    version = (
        ModelVersion.objects.select_related("model", "current_approval")
        .filter(pk=model_version_id)
        .first()
    )
    if version is None:
        raise Unprocessable(
            f"There is no model version {model_version_id}.",
            fields={"model_version": ["Unknown model version."]},
        )
    if not version.is_usable():
        if version.status == "approved":
            reason = f"the approval of {version} has expired"
        else:
            reason = f"{version} is {version.get_status_display().lower()}, not approved"
        _refuse(actor, version, reason, files)
        raise Conflict(
            f"Signing refused: {reason}. Only media made by an approved model version can be "
            "signed.",
            code="model_version_not_approved",
            fields={"model_version": [reason]},
        )
    return version


def _hash_and_size(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def signing_jobs_submit(
    *,
    actor: Any,
    files: Sequence[UploadedFile],
    model_version_id: int,
    deployment_ref: str = "",
    options: SignOptions | None = None,
) -> list[SigningJob]:
    """Create one queued job per file; workers sign them. All files are checked first: one
    bad file refuses the whole batch, naming the file and the reason."""
    options = options or SignOptions()
    if not actor.has_perm(SIGN_PERMISSION):
        raise NotAllowed("Your role does not allow signing media.")
    if not files:
        raise Unprocessable("No file to sign.", fields={"files": ["Attach at least one file."]})
    limit = settings.STEWARD_MAX_UPLOAD_BYTES
    inspections = []
    for index, upload in enumerate(files):
        if upload.size is not None and upload.size > limit:
            raise PayloadTooLarge(
                f"{upload.name} is {upload.size:,} bytes, more than the {limit:,} allowed."
            )
        try:
            inspections.append(
                media.inspect(
                    cast(BinaryIO, upload),
                    size=upload.size or 0,
                    claimed_type=upload.content_type,
                    max_pixels=settings.PROVENANCE_MAX_IMAGE_PIXELS,
                )
            )
        except Unprocessable as exc:
            exc.message = f"{upload.name}: {exc.message}"
            exc.fields = {"files": {str(index): [exc.message]}}
            raise
        except media.UnsupportedMedia as exc:
            exc.message = f"{upload.name}: {exc.message}"
            exc.fields = {"files": {str(index): [exc.message]}}
            raise
    version = _usable_version(actor, model_version_id, files)
    if active_credential() is None:
        raise Conflict(
            "No active signing credential. An administrator registers one "
            "(manage.py provenance_init_dev_ca for development).",
            code="no_signing_credential",
        )
    batch = uuid.uuid4() if len(files) > 1 else None
    jobs: list[SigningJob] = []
    with transaction.atomic():
        for upload, inspection in zip(files, inspections, strict=True):
            fmt = inspection.format
            wants_mark = options.watermark and fmt.image
            job = SigningJob(
                batch=batch,
                requester=actor,
                model_version=version,
                deployment_ref=deployment_ref,
                input_name=(upload.name or "upload")[:255],
                input_size=upload.size or 0,
                input_sha256=_hash_and_size(upload),
                mime_type=fmt.mime,
                width=inspection.width,
                height=inspection.height,
                options=options.as_dict(),
                watermark_id=to_hex(new_watermark_id()) if wants_mark else None,
            )
            job.input_file.save(f"{uuid.uuid4().hex}{fmt.extension}", upload, save=False)
            job.save()
            record_event(
                actor=actor,
                action="provenance.sign_requested",
                target=job,
                changes={
                    "model_version": version.pk,
                    "model": str(version),
                    "file": job.input_name,
                    "mime_type": job.mime_type,
                    "input_sha256": job.input_sha256,
                    "deployment": deployment_ref,
                    "options": job.options,
                },
            )
            jobs.append(job)
        ids = [job.pk for job in jobs]
        transaction.on_commit(lambda: enqueue_jobs(ids))
    return jobs


class PayloadTooLarge(Unprocessable):
    status_code = 413
    code = "payload_too_large"


def enqueue_jobs(job_ids: Iterable[int]) -> int:
    """Publish one task per job. A broker outage is not an error for the caller: the job
    stays queued with no ``enqueued_at`` and the periodic sweep publishes it later."""
    from provenance.tasks import sign_job

    sent = 0
    for job_id in job_ids:
        try:
            sign_job.apply_async(args=(job_id,))
        except Exception as exc:  # kombu raises many kinds when the broker is away
            logger.warning("could not enqueue signing job %s (sweep will retry): %s", job_id, exc)
            continue
        SigningJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
            enqueued_at=timezone.now()
        )
        sent += 1
    return sent


# --- Running --------------------------------------------------------------------------------


class JobFailed(Exception):
    """The job cannot succeed however often it runs; the message is shown to the user."""


def _claim(job_id: int) -> SigningJob | None:
    now = timezone.now()
    stale = now - dt.timedelta(seconds=settings.PROVENANCE_JOB_LEASE_SECONDS)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # A claim lost in a database crash only means the job runs again (its finish
            # checks the claim), so it need not wait for the log flush.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        claimed = (
            SigningJob.objects.filter(pk=job_id)
            .filter(
                models.Q(status=JobStatus.QUEUED)
                # A worker that died mid-sign left this: its lease has run out.
                | models.Q(status=JobStatus.RUNNING, started_at__lt=stale)
            )
            .update(status=JobStatus.RUNNING, started_at=now, attempts=models.F("attempts") + 1)
        )
    if not claimed:
        return None
    return SigningJob.objects.select_related(
        "model_version__model", "model_version__current_approval"
    ).get(pk=job_id)


@dataclass
class SignResult:
    output: SignedOutput
    manifest_bytes: bytes
    manifest_json: dict[str, Any]
    mode: str
    watermark_ms: float
    sign_ms: float
    watermark_note: str


def _save_image(image: Image.Image, original: Image.Image, mime: str) -> bytes:
    if "A" in original.getbands():
        image = image.convert("RGBA")
        image.putalpha(original.getchannel("A"))
    buffer = io.BytesIO()
    extra: dict[str, Any] = {}
    if original.info.get("icc_profile"):
        extra["icc_profile"] = original.info["icc_profile"]
    formats: dict[str, tuple[str, dict[str, Any]]] = {
        "image/jpeg": ("JPEG", {"quality": 95}),
        "image/png": ("PNG", {}),
        "image/webp": ("WEBP", {"quality": 95}),
        "image/tiff": ("TIFF", {"compression": "tiff_lzw"}),
        "image/avif": ("AVIF", {"quality": 90}),
        "image/bmp": ("BMP", {}),
    }
    name, options = formats[mime]
    image.save(buffer, name, **options, **extra)
    return buffer.getvalue()


def _watermark(job: SigningJob, data: bytes) -> tuple[bytes, str]:
    """The image with the job's watermark, or the data unchanged and why."""
    fmt = media.FORMATS[job.mime_type]
    if not job.watermark_id:
        if not fmt.image:
            return data, "not an image: no watermark"
        return data, "watermark turned off in the job options"
    if job.mime_type == "image/gif":
        return data, "GIF palette images cannot carry the watermark"
    try:
        image = media.decode_image(data, settings.PROVENANCE_MAX_IMAGE_PIXELS)
    except Image.DecompressionBombError as exc:
        raise JobFailed(f"Image refused as a decompression bomb: {exc}") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise JobFailed(f"The image cannot be decoded: {exc}") from exc
    backend = get_backend()
    min_w, min_h = backend.min_size()
    if image.width < min_w or image.height < min_h:
        return data, f"image smaller than {min_w}×{min_h}: too small for the watermark"
    marked = backend.embed(image, int(job.watermark_id, 16))
    return _save_image(marked, image, job.mime_type), ""


def sign_media(
    *,
    job: SigningJob,
    data: bytes,
    credential: SigningCredential,
    watermark: bool = True,
) -> SignResult:
    """Watermark (images) and sign one asset. Raises JobFailed for a permanent failure."""
    started = time.perf_counter()
    note = ""
    if watermark:
        data, note = _watermark(job, data)
    marked_at = time.perf_counter()
    fmt = media.FORMATS[job.mime_type]
    embed = fmt.embed and bool(job.options.get("embed", True))
    version = job.model_version
    wm_assertion = None
    if job.watermark_id and not note:
        wm_assertion = {"algorithm": get_backend().algorithm, "id": job.watermark_id, "bits": 64}
    definition = manifest.definition(
        title=job.input_name,
        model=manifest.ModelIdentity(
            name=version.model.name,
            version=version.label,
            provider=version.model.provider,
            registry_id=version.pk,
        ),
        training_mining=job.options.get("training_mining", TrainingMining.NOT_ALLOWED),
        watermark=wm_assertion,
        steward_job={"job_id": job.pk, "deployment": job.deployment_ref or None},
    )
    signer = keys.process_signer(
        chain_pem=credential.certificate_chain,
        key_reference=credential.key_reference,
        algorithm=credential.algorithm,
        tsa_url=settings.PROVENANCE_TSA_URL,
    )
    output = SignedOutput()  # handed to the caller, who closes it
    try:
        manifest_bytes = manifest.sign_stream(
            source=io.BytesIO(data),
            dest=cast(BinaryIO, output),
            mime=job.mime_type,
            manifest_definition=definition,
            signer=signer,
            context=keys.process_sign_context(),
            embed=embed,
        )
    except c2pa.C2paError as exc:
        output.close()
        raise JobFailed(f"c2pa could not sign this {fmt.label} file: {exc}") from exc
    signed_at = time.perf_counter()
    return SignResult(
        output=output,
        manifest_bytes=manifest_bytes,
        manifest_json=manifest.store_json(manifest_bytes),
        mode=ManifestMode.EMBEDDED if embed else ManifestMode.SIDECAR,
        watermark_ms=(marked_at - started) * 1000,
        sign_ms=(signed_at - marked_at) * 1000,
        watermark_note=note,
    )


def _fail(job: SigningJob, attempt: int, reason: str, *, refused: bool = False) -> None:
    with transaction.atomic():
        updated = SigningJob.objects.filter(
            pk=job.pk, status=JobStatus.RUNNING, attempts=attempt
        ).update(status=JobStatus.FAILED, error=reason[:4000], finished_at=timezone.now())
        if updated:
            record_event(
                actor=None,
                action="provenance.sign_refused" if refused else "provenance.sign_failed",
                target=job,
                outcome=Outcome.DENIED if refused else Outcome.FAILURE,
                changes={"reason": reason[:1000], "attempt": attempt},
            )


def signing_job_run(*, job_id: int, watermark: bool = True) -> SigningJob | None:
    """Sign one queued job, once. A redelivered task finds the job claimed and does nothing;
    a task that lost its claim (its lease ran out and another took over) keeps nothing."""
    job = _claim(job_id)
    if job is None:
        logger.info("signing job %s is missing, finished or being signed elsewhere", job_id)
        return SigningJob.objects.filter(pk=job_id).first()
    attempt = job.attempts
    started = time.perf_counter()
    if not job.model_version.is_usable():
        _fail(
            job,
            attempt,
            f"{job.model_version} is no longer approved ({job.model_version.status}); not signed.",
            refused=True,
        )
        return SigningJob.objects.get(pk=job_id)
    credential = active_credential()
    if credential is None:
        _fail(job, attempt, "No active signing credential.")
        return SigningJob.objects.get(pk=job_id)
    try:
        with job.input_file.open("rb") as handle:
            data = handle.read()
        result = sign_media(job=job, data=data, credential=credential, watermark=watermark)
    except keys.CredentialError as exc:
        _fail(job, attempt, f"The signing credential '{credential}' is unusable: {exc.message}")
        return SigningJob.objects.get(pk=job_id)
    except JobFailed as exc:
        _fail(job, attempt, str(exc))
        return SigningJob.objects.get(pk=job_id)
    except FileNotFoundError:
        _fail(job, attempt, "The uploaded file is missing from storage.")
        return SigningJob.objects.get(pk=job_id)
    except TRANSIENT_ERRORS:
        # Give the job back so that the retry (or the sweep) can claim it at once.
        SigningJob.objects.filter(pk=job_id, status=JobStatus.RUNNING, attempts=attempt).update(
            status=JobStatus.QUEUED
        )
        raise
    with result.output:
        return _finish(job, attempt, credential, result, started)


def _finish(
    job: SigningJob,
    attempt: int,
    credential: SigningCredential,
    result: SignResult,
    started: float,
) -> SigningJob:
    output_sha, output_size = result.output.sha256_and_size()
    base = f"provenance/signed/{job.pk}/{attempt}"
    stem = job.input_name.rsplit(".", 1)[0][:80] or "signed"
    extension = media.FORMATS[job.mime_type].extension
    # Moved into place, not copied, on a filesystem storage (see provenance/services/output.py).
    output_name = default_storage.save(f"{base}/{stem}{extension}", result.output)
    manifest_name = default_storage.save(f"{base}/{stem}.c2pa", ContentFile(result.manifest_bytes))
    timings = {
        "watermark_ms": round(result.watermark_ms, 2),
        "sign_ms": round(result.sign_ms, 2),
        "total_ms": round((time.perf_counter() - started) * 1000, 2),
    }
    if job.created_at and job.started_at:
        timings["queue_ms"] = round((job.started_at - job.created_at).total_seconds() * 1000, 2)
    label = result.manifest_json.get("active_manifest", "")
    with transaction.atomic():
        updated = SigningJob.objects.filter(
            pk=job.pk, status=JobStatus.RUNNING, attempts=attempt
        ).update(
            status=JobStatus.SUCCEEDED,
            credential=credential,
            output_file=output_name,
            output_sha256=output_sha,
            output_size=output_size,
            manifest_mode=result.mode,
            manifest_label=label,
            manifest_file=manifest_name,
            manifest_json=result.manifest_json,
            watermark_algorithm=get_backend().algorithm
            if not result.watermark_note and job.watermark_id
            else "",
            watermark_note=result.watermark_note,
            finished_at=timezone.now(),
            timings=timings,
            error="",
        )
        if updated:
            record_event(
                actor=None,
                action="provenance.signed",
                target=job,
                changes={
                    "manifest_label": label,
                    "manifest_mode": result.mode,
                    "output_sha256": output_sha,
                    "watermark_id": job.watermark_id if not result.watermark_note else None,
                    "credential": credential.name,
                    "attempt": attempt,
                },
            )
    if not updated:
        # Another attempt owns the job now: what this one made is thrown away.
        logger.warning("signing job %s attempt %s lost its claim; discarding", job.pk, attempt)
        default_storage.delete(output_name)
        default_storage.delete(manifest_name)
    return SigningJob.objects.get(pk=job.pk)


def signing_job_fail_unexpected(*, job_id: int, reason: str) -> None:
    job = SigningJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).first()
    if job is not None:
        _fail(job, job.attempts, reason)


# --- Sweep ----------------------------------------------------------------------------------


def signing_jobs_sweep(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Publish jobs whose message never reached the broker (or was lost), and give back jobs
    whose worker died (running past the lease) so they run again."""
    now = now or timezone.now()
    stale = now - dt.timedelta(seconds=settings.PROVENANCE_JOB_LEASE_SECONDS)
    dead = list(
        SigningJob.objects.filter(status=JobStatus.RUNNING, started_at__lt=stale).values_list(
            "pk", flat=True
        )
    )
    released = 0
    for job_id in dead:
        released += SigningJob.objects.filter(
            pk=job_id, status=JobStatus.RUNNING, started_at__lt=stale
        ).update(status=JobStatus.QUEUED, enqueued_at=None)
    waiting = list(
        SigningJob.objects.filter(status=JobStatus.QUEUED)
        .filter(
            models.Q(enqueued_at__isnull=True, created_at__lt=now - NEVER_ENQUEUED_AFTER)
            | models.Q(enqueued_at__isnull=True, pk__in=dead)
            | models.Q(enqueued_at__lt=now - REQUEUE_AFTER)
        )
        .values_list("pk", flat=True)[:1000]
    )
    sent = enqueue_jobs(waiting)
    remove_stale_partials(settings.PROVENANCE_JOB_LEASE_SECONDS)
    if released or sent:
        logger.info("provenance sweep: released %s dead jobs, enqueued %s", released, sent)
    return {"released": released, "enqueued": sent, "waiting": len(waiting)}
