"""Reads for provenance, filtered by what the user may see, in one place."""

from __future__ import annotations

import logging
from typing import Any

import c2pa
from django.db.models import Q, QuerySet
from django.utils import timezone

from config.exceptions import NotFound
from provenance import manifest
from provenance.models import SigningCredential, SigningJob
from registry.models import ModelVersion, VersionStatus

logger = logging.getLogger(__name__)


def jobs_visible_to(user: Any) -> QuerySet[SigningJob]:
    qs = SigningJob.objects.select_related("model_version__model", "requester", "credential")
    if user.has_perm("provenance.view_signingjob"):
        return qs
    return qs.filter(requester=user)


def job_for(user: Any, job_id: int) -> SigningJob:
    job = jobs_visible_to(user).filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"No signing job {job_id}.")
    return job


def issued_manifest(job: SigningJob) -> dict[str, Any] | None:
    """The manifest store Steward issued for the job, as JSON: read from the stored manifest
    file (jobs signed before it was read on demand kept the reading in ``manifest_json``).
    None when the job has no manifest (yet), or its file is gone or unreadable."""
    if job.manifest_json is not None:
        return job.manifest_json
    if not job.manifest_file:
        return None
    try:
        with job.manifest_file.open("rb") as handle:
            data = handle.read()
        return manifest.store_json(data)
    except (FileNotFoundError, c2pa.C2paError):
        logger.warning("the manifest of signing job %s cannot be read", job.pk, exc_info=True)
        return None


def signable_versions() -> QuerySet[ModelVersion]:
    """Versions whose approval is in force: the signing form offers no version the service
    would refuse (an expired approval). The service checks again at signing time."""
    now = timezone.now()
    return (
        ModelVersion.objects.select_related("model")
        .filter(status=VersionStatus.APPROVED, current_approval__isnull=False)
        .filter(
            Q(current_approval__expires_at__isnull=True) | Q(current_approval__expires_at__gt=now)
        )
    )


CREDENTIAL_PERMISSION = "provenance.add_signingcredential"


def can_manage_credentials(user: Any) -> bool:
    return bool(user.is_authenticated and user.has_perm(CREDENTIAL_PERMISSION))


def credentials() -> QuerySet[SigningCredential]:
    """Every credential, the active one first (callers check ``can_manage_credentials``)."""
    return SigningCredential.objects.order_by("-is_active", "-created_at")
