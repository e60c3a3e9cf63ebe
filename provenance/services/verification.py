"""Verifying any file: its manifest, else its watermark, else its hash."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import InterfaceError, OperationalError, models, transaction
from PIL import Image

from audit.services import record_event
from config.exceptions import Unprocessable
from config.uploads import PayloadTooLarge
from provenance import manifest, media
from provenance.models import (
    JobStatus,
    SigningJob,
)
from provenance.selectors import issued_manifest
from provenance.services.credentials import trust_anchors_pem
from provenance.watermark import get_backend, to_hex

logger = logging.getLogger(__name__)

SIGN_PERMISSION = "provenance.add_signingjob"
# Errors after which the same task, run again, may well succeed.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)
# A queued job whose message may have been lost is enqueued again after this long.
REQUEUE_AFTER = dt.timedelta(minutes=10)
NEVER_ENQUEUED_AFTER = dt.timedelta(seconds=30)


# --- Verification ---------------------------------------------------------------------------


def _job_summary(job: SigningJob | None) -> dict[str, Any] | None:
    if job is None:
        return None
    version = job.model_version
    return {
        "id": job.pk,
        "status": job.status,
        "manifest_label": job.manifest_label,
        "model_version": {
            "id": version.pk,
            "model": version.model.name,
            "version": version.label,
            "provider": version.model.provider,
            "status": version.status,
        },
        "created_at": job.created_at,
        "watermark_id": job.watermark_id,
    }


def _jobs() -> models.QuerySet[SigningJob]:
    return SigningJob.objects.select_related("model_version__model")


def verify_file(
    *, actor: Any, upload: UploadedFile, sidecar: UploadedFile | None = None
) -> dict[str, Any]:
    """What Steward can say about a file: its manifest and validation state; else the
    watermark it carries and the job and manifest that leads to; else a record by hash."""
    limit = settings.STEWARD_MAX_UPLOAD_BYTES
    size = upload.size or 0
    if size > limit:
        raise PayloadTooLarge(f"{upload.name} is {size:,} bytes, more than the {limit:,} allowed.")
    if size == 0:
        raise Unprocessable("The file is empty (0 bytes).", code="empty_file")
    data = upload.read()
    mime = media.sniff_file(io.BytesIO(data)) or media.canonical_mime(upload.content_type)
    sha256 = hashlib.sha256(data).hexdigest()
    sidecar_bytes = sidecar.read() if sidecar is not None else None
    reading = manifest.read(
        io.BytesIO(data), mime or "", trust_anchors_pem=trust_anchors_pem(), sidecar=sidecar_bytes
    )
    result: dict[str, Any] = {
        "sha256": sha256,
        "mime_type": mime or None,
        "manifest": None,
        "watermark": None,
        "job": None,
        "found_by": None,
    }
    if reading.status in ("ok", "error"):
        action = manifest.created_action(reading.active_manifest) or {}
        agent = action.get("softwareAgent") or {}
        job = (
            _jobs().filter(manifest_label=reading.active_label).first()
            if reading.active_label
            else None
        )
        result["manifest"] = {
            "state": reading.state,
            "validation_state": reading.validation_state,
            "failure_codes": reading.failure_codes,
            "label": reading.active_label,
            "embedded": reading.embedded,
            "error": reading.error,
            "issued_by_steward": job is not None,
            "digital_source_type": action.get("digitalSourceType"),
            "software_agent": agent or None,
            "training_mining": manifest.find_assertion(
                reading.active_manifest, manifest.TRAINING_MINING_LABEL
            ),
            "watermark": manifest.find_assertion(reading.active_manifest, manifest.WATERMARK_LABEL),
        }
        result["job"] = _job_summary(job)
        result["found_by"] = "manifest" if job else None
    if result["job"] is None:
        job = _jobs().filter(output_sha256=sha256, status=JobStatus.SUCCEEDED).first()
        if job is not None:
            result["job"] = _job_summary(job)
            result["found_by"] = "sha256"
    if reading.status != "ok" and result["job"] is None and mime in media.FORMATS:
        fmt = media.FORMATS[mime]
        if fmt.image and mime != "image/gif":
            result["watermark"] = _decode_watermark(data)
            if result["watermark"] and result["watermark"].get("job_id"):
                job = _jobs().get(pk=result["watermark"]["job_id"])
                result["job"] = _job_summary(job)
                result["found_by"] = "watermark"
                result["stored_manifest"] = issued_manifest(job)
    with transaction.atomic():
        record_event(
            actor=actor,
            action="provenance.verified",
            target=None,
            changes={
                "sha256": sha256,
                "manifest_state": (result["manifest"] or {}).get("state", "none"),
                "found_by": result["found_by"],
                "job": (result["job"] or {}).get("id"),
            },
        )
    return result


def _decode_watermark(data: bytes) -> dict[str, Any] | None:
    try:
        image = media.decode_image(data, settings.PROVENANCE_MAX_IMAGE_PIXELS)
    except Image.DecompressionBombError as exc:
        raise Unprocessable(f"Image refused: {exc}", code="too_many_pixels") from exc
    except Exception as exc:
        return {"decoded_id": None, "job_id": None, "note": f"image cannot be decoded: {exc}"}
    backend = get_backend()
    min_w, min_h = backend.min_size()
    if image.width < min_w // 2 or image.height < min_h // 2:
        return {"decoded_id": None, "job_id": None, "note": "image too small to carry a watermark"}
    # Try the image as it is, then at the size of each marked job with the same aspect ratio
    # (a resized copy must be brought back to the marked geometry before decoding).
    sizes: list[tuple[int, int] | None] = [None]
    ratio = image.width / image.height
    for width, height in _marked_sizes():
        if (width, height) != image.size and abs(width / height - ratio) < 0.02:
            sizes.append((width, height))
    sizes = sizes[:6]
    budget = settings.PROVENANCE_VERIFY_DECODE_PIXELS
    tried = 0
    for size in sizes:
        width, height = size or image.size
        if width * height > budget:
            break
        budget -= width * height
        tried += 1
        decoded = to_hex(backend.extract(image, original_size=size))
        job = SigningJob.objects.filter(watermark_id=decoded, status=JobStatus.SUCCEEDED).first()
        if job is not None:
            return {"decoded_id": decoded, "job_id": job.pk, "algorithm": backend.algorithm}
    note = "no Steward watermark found (the decoded bits match no job)"
    if tried < len(sizes):
        note = (
            f"watermark search cut short: {tried} of {len(sizes)} candidate sizes decoded, "
            f"within the {settings.PROVENANCE_VERIFY_DECODE_PIXELS:,} pixels a request may "
            "decode (PROVENANCE_VERIFY_DECODE_PIXELS)"
        )
    return {"decoded_id": None, "job_id": None, "note": note, "sizes_tried": tried}


def _marked_sizes() -> list[tuple[int, int]]:
    """Distinct sizes of images Steward has watermarked, most recent first."""
    rows = (
        SigningJob.objects.filter(status=JobStatus.SUCCEEDED, watermark_algorithm__gt="")
        .exclude(width=None)
        .order_by("-created_at")
        .values_list("width", "height")[:200]
    )
    return list(dict.fromkeys((int(w), int(h)) for w, h in rows if w and h))
