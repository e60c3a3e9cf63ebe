"""Signing jobs: submit, and sweep back jobs that were lost or orphaned (running one job is
provenance/services/signing.py)."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, cast

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import models, transaction
from django.utils import timezone

from audit.models import Outcome
from audit.services import record_event
from config.exceptions import Conflict, NotAllowed, Unprocessable
from config.jobs import enqueue
from config.uploads import PayloadTooLarge
from provenance import media
from provenance.models import (
    JobStatus,
    SigningJob,
    TrainingMining,
)
from provenance.services.credentials import active_credential
from provenance.services.output import remove_stale_partials
from provenance.watermark import new_watermark_id, to_hex
from registry.models import ModelVersion

logger = logging.getLogger(__name__)

SIGN_PERMISSION = "provenance.add_signingjob"
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


def enqueue_jobs(job_ids: Iterable[int]) -> int:
    """Publish one task per job. A broker outage is not an error for the caller: the job
    stays queued with no ``enqueued_at`` and the periodic sweep publishes it later."""
    from provenance.tasks import sign_job

    sent = 0
    for job_id in job_ids:
        if not enqueue(sign_job, job_id):
            continue
        SigningJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
            enqueued_at=timezone.now()
        )
        sent += 1
    return sent


# --- Sweep ----------------------------------------------------------------------------------


def signing_jobs_sweep(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Publish jobs whose message never reached the broker (or was lost), and give back jobs
    whose worker died (running past the lease) so they run again."""
    now = now or timezone.now()
    stale = now - dt.timedelta(seconds=settings.PROVENANCE_JOB_LEASE_SECONDS)
    dead = list(
        SigningJob.objects.filter(status=JobStatus.RUNNING, started_at__lt=stale).values_list(
            "pk", "attempts"
        )
    )
    released = given_up = 0
    for job_id, attempts in dead:
        if attempts >= settings.PROVENANCE_JOB_MAX_ATTEMPTS:
            given_up += _give_up(job_id, attempts, stale)
            continue
        released += SigningJob.objects.filter(
            pk=job_id, status=JobStatus.RUNNING, started_at__lt=stale
        ).update(status=JobStatus.QUEUED, enqueued_at=None)
    waiting = list(
        SigningJob.objects.filter(status=JobStatus.QUEUED)
        .filter(
            models.Q(enqueued_at__isnull=True, created_at__lt=now - NEVER_ENQUEUED_AFTER)
            | models.Q(enqueued_at__isnull=True, pk__in=[pk for pk, _ in dead])
            | models.Q(enqueued_at__lt=now - REQUEUE_AFTER)
        )
        .values_list("pk", flat=True)[:1000]
    )
    sent = enqueue_jobs(waiting)
    remove_stale_partials(settings.PROVENANCE_JOB_LEASE_SECONDS)
    if released or sent or given_up:
        logger.info(
            "provenance sweep: released %s dead jobs, failed %s, enqueued %s",
            released,
            given_up,
            sent,
        )
    return {"released": released, "failed": given_up, "enqueued": sent, "waiting": len(waiting)}


def _give_up(job_id: int, attempts: int, stale: dt.datetime) -> int:
    """Fail a job whose workers died with it ``attempts`` times, with its audit event."""
    reason = (
        f"Started {attempts} times and never finished: the worker signing it was killed or ran "
        "out of time each time. Not tried again; check the file and the workers' logs."
    )
    with transaction.atomic():
        failed = SigningJob.objects.filter(
            pk=job_id, status=JobStatus.RUNNING, started_at__lt=stale
        ).update(status=JobStatus.FAILED, error=reason, finished_at=timezone.now())
        if failed:
            record_event(
                actor=None,
                action="provenance.sign_failed",
                target=SigningJob.objects.get(pk=job_id),
                outcome=Outcome.FAILURE,
                changes={"reason": reason, "attempt": attempts},
            )
    return failed
