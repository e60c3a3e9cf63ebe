"""Running one signing job: claim it, watermark and sign the asset, store the output and the
manifest, and record the outcome, exactly once however often the task is delivered."""

from __future__ import annotations

import datetime as dt
import functools
import io
import logging
import time
from dataclasses import dataclass
from typing import Any, BinaryIO, cast

import c2pa
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import InterfaceError, OperationalError, connection, models, transaction
from django.utils import timezone
from PIL import Image

from audit.models import Outcome
from audit.services import RowUpdate, record_event
from config.db import RowReader, prepared_cursor
from provenance import keys, manifest, media
from provenance.models import (
    JobStatus,
    ManifestMode,
    SigningCredential,
    SigningJob,
    TrainingMining,
)
from provenance.services.output import SignedOutput, store_manifest, store_output
from provenance.watermark import get_backend
from registry.models import AIModel, Approval, ModelVersion

logger = logging.getLogger(__name__)

# Errors after which the same task, run again, may well succeed.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)


class JobFailed(Exception):
    """The job cannot succeed however often it runs; the message is shown to the user."""


# What a run needs, read with the claim: the job, its model version (with the model and the
# approval in force, to check it may still sign) and the active credential.
_LOADED: tuple[tuple[type[models.Model], str], ...] = (
    (SigningJob, "j"),
    (ModelVersion, "mv"),
    (AIModel, "m"),
    (Approval, "ap"),
    (SigningCredential, "cr"),
)


def _columns(model: type[models.Model], alias: str) -> str:
    qn = connection.ops.quote_name
    return ", ".join(f"{alias}.{qn(str(f.column))}" for f in model._meta.concrete_fields)


@functools.cache
def _claim_sql(vendor: str) -> tuple[str, str]:
    """(claim, load) statements, built once per backend. On PostgreSQL the claim is a CTE of
    the load: one round trip claims and reads everything. SQLite has no UPDATE in a CTE: two
    statements there."""
    qn = connection.ops.quote_name
    table = qn(SigningJob._meta.db_table)
    claim = (
        f"UPDATE {table} SET status = %s, started_at = %s, attempts = attempts + 1"  # noqa: S608
        f"{{source}} WHERE {table}.id = %s"
        f" AND (status = %s OR (status = %s AND started_at < %s AND attempts < %s))"
        f" RETURNING {{returning}}"
    )
    joins = (
        f" JOIN {qn(ModelVersion._meta.db_table)} mv ON mv.id = j.model_version_id"
        f" JOIN {qn(AIModel._meta.db_table)} m ON m.id = mv.model_id"
        f" LEFT JOIN {qn(Approval._meta.db_table)} ap ON ap.id = mv.current_approval_id"
        # What active_credential() returns: at most one is active (a unique constraint).
        f" LEFT JOIN {qn(SigningCredential._meta.db_table)} cr ON cr.is_active = %s"
    )
    select = "SELECT " + ", ".join(_columns(model, alias) for model, alias in _LOADED)
    if vendor == "postgresql":
        # A claim lost in a database crash only means the job runs again (its finish checks
        # the claim), so it need not wait for the log flush: set_config() makes this
        # statement's own (autocommit) transaction asynchronous.
        cte = claim.format(source=" FROM nosync", returning=f"{table}.*")
        nosync = "WITH nosync AS (SELECT set_config('synchronous_commit', 'off', true))"
        return f"{nosync}, j AS ({cte}) {select} FROM j{joins}", ""
    return (
        claim.format(source="", returning="id"),
        f"{select} FROM {table} j{joins} WHERE j.id = %s",
    )


# Reads the claim's row into instances as the ORM would (converters looked up once per
# connection: looking them up on every job cost more than running the claim).
_LOADED_ROW = RowReader(*(model for model, _alias in _LOADED))


def _claim(job_id: int) -> tuple[SigningJob, SigningCredential | None] | None:
    """Take the job (queued, or running past its lease: the worker that had it died, unless
    it used up its attempts: the sweep fails it) and read what the run needs: the job with
    its model version, and the active credential. None when the job is missing, finished or
    being signed elsewhere."""
    now = timezone.now()
    stale = now - dt.timedelta(seconds=settings.PROVENANCE_JOB_LEASE_SECONDS)
    ops = connection.ops
    claim_params = [
        JobStatus.RUNNING.value,
        ops.adapt_datetimefield_value(now),
        job_id,
        JobStatus.QUEUED.value,
        JobStatus.RUNNING.value,
        ops.adapt_datetimefield_value(stale),
        settings.PROVENANCE_JOB_MAX_ATTEMPTS,
    ]
    claim, load = _claim_sql(connection.vendor)
    # Prepared: PostgreSQL took longer to plan the claim than to run it.
    with prepared_cursor(connection) as cursor:
        if load:
            cursor.execute(claim, claim_params)
            if cursor.fetchone() is None:
                return None
            cursor.execute(load, [True, job_id])
        else:
            cursor.execute(claim, [*claim_params, True])
        row = cursor.fetchone()
    if row is None:
        return None
    job, version, ai_model, approval, credential = _LOADED_ROW.read(
        transaction.get_connection(), row
    )
    version.model = ai_model
    version.current_approval = approval if approval.pk is not None else None  # outer join
    job.model_version = version
    return job, credential if credential.pk is not None else None


@dataclass
class SignResult:
    output: SignedOutput
    manifest_bytes: bytes
    manifest_label: str
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


def _watermark(job: SigningJob, data: bytes | BinaryIO) -> tuple[bytes | BinaryIO, str]:
    """The image with the job's watermark, or the data unchanged and why. A stream is read
    only when the watermark needs the pixels."""
    fmt = media.FORMATS[job.mime_type]
    if not job.watermark_id:
        if not job.mime_type.startswith("image/"):
            return data, "not an image: no watermark"
        if not fmt.image:
            return data, f"{fmt.label} images cannot be decoded here: no watermark"
        return data, "watermark turned off in the job options"
    if job.mime_type == "image/gif":
        return data, "GIF palette images cannot carry the watermark"
    if not isinstance(data, bytes):
        data = data.read()
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
    data: bytes | BinaryIO,
    credential: SigningCredential,
    watermark: bool = True,
) -> SignResult:
    """Watermark (images) and sign one asset, given as bytes or as a readable, seekable
    stream (c2pa then reads the stored input itself: no copy in memory). Raises JobFailed
    for a permanent failure."""
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
            source=io.BytesIO(data) if isinstance(data, bytes) else data,
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
        manifest_label=_active_label(manifest_bytes),
        mode=ManifestMode.EMBEDDED if embed else ManifestMode.SIDECAR,
        watermark_ms=(marked_at - started) * 1000,
        sign_ms=(signed_at - marked_at) * 1000,
        watermark_note=note,
    )


def _active_label(manifest_bytes: bytes) -> str:
    try:
        return manifest.active_label(manifest_bytes)
    except (ValueError, IndexError, UnicodeDecodeError):  # pragma: no cover - c2pa's own bytes
        logger.warning("manifest store not parsed as JUMBF; reading it with c2pa")
        return str(manifest.store_json(manifest_bytes).get("active_manifest", ""))


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
    claimed = _claim(job_id)
    if claimed is None:
        logger.info("signing job %s is missing, finished or being signed elsewhere", job_id)
        return SigningJob.objects.filter(pk=job_id).first()
    job, credential = claimed
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
    if credential is None:
        _fail(job, attempt, "No active signing credential.")
        return SigningJob.objects.get(pk=job_id)
    try:
        with job.input_file.open("rb") as handle:
            result = sign_media(
                job=job, data=cast(BinaryIO, handle), credential=credential, watermark=watermark
            )
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
    # Linked into place, not copied, on a filesystem storage (see provenance/services/output.py).
    output_name = store_output(result.output, f"{base}/{stem}{extension}")
    manifest_name = store_manifest(result.manifest_bytes, f"{base}/{stem}.c2pa")
    timings = {
        "watermark_ms": round(result.watermark_ms, 2),
        "sign_ms": round(result.sign_ms, 2),
        "total_ms": round((time.perf_counter() - started) * 1000, 2),
    }
    if job.created_at and job.started_at:
        timings["queue_ms"] = round((job.started_at - job.created_at).total_seconds() * 1000, 2)
    label = result.manifest_label
    values: dict[str, Any] = {
        "status": JobStatus.SUCCEEDED,
        "credential": credential,
        "output_file": output_name,
        "output_sha256": output_sha,
        "output_size": output_size,
        "manifest_mode": result.mode,
        "manifest_label": label,
        "manifest_file": manifest_name,
        # Read from manifest_file when shown (selectors.issued_manifest): reading it back
        # with c2pa here cost ~0.5 ms per job.
        "manifest_json": None,
        "watermark_algorithm": get_backend().algorithm
        if not result.watermark_note and job.watermark_id
        else "",
        "watermark_note": result.watermark_note,
        "finished_at": timezone.now(),
        "timings": timings,
        "error": "",
    }
    # The row and its event in one statement (one transaction, no BEGIN/COMMIT round trips on
    # PostgreSQL), durable when record_event returns (see audit.append); nothing is written if
    # the claim was lost.
    event = record_event(
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
        # The queryset's filter(pk=, status=RUNNING, attempts=).update(**values), compiled
        # by hand: compiling it cost more (~0.3 ms) than running it, on every job.
        update=RowUpdate.of(
            SigningJob,
            values,
            where={"id": job.pk, "status": JobStatus.RUNNING.value, "attempts": attempt},
        ),
    )
    if event is None:
        # Another attempt owns the job now: what this one made is thrown away.
        logger.warning("signing job %s attempt %s lost its claim; discarding", job.pk, attempt)
        default_storage.delete(output_name)
        default_storage.delete(manifest_name)
        return SigningJob.objects.get(pk=job.pk)
    # The row is what this attempt wrote: no need to read it back.
    for name, value in values.items():
        setattr(job, name, value)
    return job


def signing_job_fail_unexpected(*, job_id: int, reason: str) -> None:
    job = SigningJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).first()
    if job is not None:
        _fail(job, job.attempts, reason)
