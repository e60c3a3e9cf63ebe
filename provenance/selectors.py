"""Reads for provenance, filtered by what the user may see, in one place."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from config.exceptions import NotFound
from provenance.models import SigningJob
from registry.models import ModelVersion, VersionStatus


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
