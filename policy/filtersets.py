"""One FilterSet per list, shared by the HTML page and the API endpoint."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from config.filters import UtcIsoDateTimeFilter
from policy.models import (
    Decision,
    Deployment,
    DeploymentStatus,
    Environment,
    Verdict,
    Waiver,
    WaiverStatus,
)


class DeploymentFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Search")
    status = django_filters.ChoiceFilter(choices=DeploymentStatus.choices)
    environment = django_filters.ChoiceFilter(choices=Environment.choices)
    region = django_filters.CharFilter(field_name="region__code", label="Region")
    model = django_filters.CharFilter(field_name="model_version__model__slug", label="Model")
    use_case = django_filters.CharFilter(field_name="use_case__slug", label="Use case")

    class Meta:
        model = Deployment
        fields = ["q", "status", "environment", "region", "model", "use_case"]

    def search(self, qs: QuerySet[Deployment], name: str, value: str) -> QuerySet[Deployment]:
        return qs.filter(Q(slug__icontains=value) | Q(name__icontains=value))


class DecisionFilterSet(django_filters.FilterSet):
    verdict = django_filters.ChoiceFilter(choices=Verdict.choices)
    deployment = django_filters.CharFilter(field_name="deployment__slug", label="Deployment")
    model = django_filters.CharFilter(field_name="model_slug", label="Model")
    source = django_filters.CharFilter(field_name="source")
    actor = django_filters.CharFilter(
        field_name="actor_label", lookup_expr="icontains", label="Actor"
    )
    after = UtcIsoDateTimeFilter(
        field_name="created_at",
        lookup_expr="gte",
        label="From (time)",
        widget=forms.DateTimeInput(attrs={"placeholder": "YYYY-MM-DD"}),
    )
    before = UtcIsoDateTimeFilter(
        field_name="created_at",
        lookup_expr="lt",
        label="Before (time)",
        widget=forms.DateTimeInput(attrs={"placeholder": "YYYY-MM-DD"}),
    )

    class Meta:
        model = Decision
        fields = ["verdict", "deployment", "model", "source", "actor", "after", "before"]


class WaiverFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=WaiverStatus.choices)
    policy = django_filters.CharFilter(field_name="policy__slug", label="Policy")
    deployment = django_filters.CharFilter(field_name="deployment__slug", label="Deployment")

    class Meta:
        model = Waiver
        fields = ["status", "policy", "deployment"]
