from __future__ import annotations

import django_filters

from config.filters import IdFilter
from provenance.models import JobStatus, ManifestMode, SigningJob


class SigningJobFilterSet(django_filters.FilterSet):
    """Shared by the job list page and the job list endpoint."""

    status = django_filters.ChoiceFilter(choices=JobStatus.choices)
    manifest_mode = django_filters.ChoiceFilter(choices=ManifestMode.choices)
    mime_type = django_filters.CharFilter()
    model_version = IdFilter(field_name="model_version_id")
    batch = django_filters.UUIDFilter()
    q = django_filters.CharFilter(
        field_name="input_name", lookup_expr="icontains", label="File name"
    )

    class Meta:
        model = SigningJob
        fields = ["status", "manifest_mode", "mime_type", "model_version", "batch", "q"]
