"""One FilterSet for the model list page and the model list endpoint."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from registry.models import (
    Access,
    AIModel,
    LicenseCategory,
    Modality,
    OpennessTier,
    RiskGrade,
    VersionStatus,
)


class ModelFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    provider = django_filters.CharFilter(field_name="provider", lookup_expr="iexact")
    license_category = django_filters.ChoiceFilter(
        field_name="license__category", choices=LicenseCategory.choices, label="Licence category"
    )
    openness = django_filters.ChoiceFilter(
        field_name="openness_tier", choices=OpennessTier.choices, label="Openness"
    )
    risk_grade = django_filters.ChoiceFilter(
        field_name="current_grade", choices=RiskGrade.choices, label="Risk grade"
    )
    status = django_filters.ChoiceFilter(
        field_name="current_status", choices=VersionStatus.choices, label="Status"
    )
    modality = django_filters.ChoiceFilter(choices=Modality.choices)
    access = django_filters.ChoiceFilter(choices=Access.choices)
    team = django_filters.CharFilter(field_name="owner_team__slug", label="Owner team")

    class Meta:
        model = AIModel
        fields: list[str] = []

    def search(self, queryset: QuerySet[AIModel], name: str, value: str) -> QuerySet[AIModel]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value)
            | Q(slug__icontains=value)
            | Q(provider__icontains=value)
            | Q(description__icontains=value)
            | Q(hf_repo_id__icontains=value)
        )
