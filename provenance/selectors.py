"""Reads for provenance, filtered by what the user may see, in one place."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

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
    """Approved versions (an expired approval is still refused by the service)."""
    return ModelVersion.objects.select_related("model").filter(status=VersionStatus.APPROVED)
