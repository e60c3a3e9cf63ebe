"""One FilterSet for the audit explorer page, the events API and exports."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db import DatabaseError, transaction
from django.db.models import Q, QuerySet
from django.db.models.fields.json import KT
from django.db.models.lookups import Exact

from audit.models import ActorType, AuditEvent, Outcome
from config.exceptions import DomainError
from config.filters import UtcIsoDateTimeFilter
from config.ids import parse_id


class AuditEventFilterSet(django_filters.FilterSet):
    # A date alone means its midnight (UTC): a month is From 2025-05-01, Before 2025-06-01.
    occurred_after = UtcIsoDateTimeFilter(
        field_name="occurred_at",
        lookup_expr="gte",
        label="From (time)",
        widget=forms.DateTimeInput(attrs={"placeholder": "YYYY-MM-DD"}),
    )
    occurred_before = UtcIsoDateTimeFilter(
        field_name="occurred_at",
        lookup_expr="lt",
        label="Before (time)",
        widget=forms.DateTimeInput(attrs={"placeholder": "YYYY-MM-DD"}),
    )
    actor = django_filters.CharFilter(method="filter_actor", label="Actor (username)")
    actor_type = django_filters.ChoiceFilter(choices=ActorType.choices, label="Actor type")
    action = django_filters.CharFilter(
        method="filter_action", label="Action", help_text="exact, or a prefix ending in '.'"
    )
    target_type = django_filters.CharFilter(field_name="target_type", label="Target type")
    target_id = django_filters.CharFilter(field_name="target_id", label="Target id")
    model = django_filters.CharFilter(method="filter_model", label="Model (slug or id)")
    deployment = django_filters.CharFilter(method="filter_deployment", label="Deployment")
    outcome = django_filters.ChoiceFilter(choices=Outcome.choices, label="Outcome")
    seq_min = django_filters.NumberFilter(field_name="seq", lookup_expr="gte", label="From seq")
    seq_max = django_filters.NumberFilter(field_name="seq", lookup_expr="lte", label="To seq")

    class Meta:
        model = AuditEvent
        fields: list[str] = []

    def filter_actor(self, qs: QuerySet[AuditEvent], name: str, value: str) -> QuerySet[AuditEvent]:
        value = value.strip()
        return qs.filter(Q(actor_label=value) | Q(actor_label__startswith=f"{value} via "))

    def filter_action(
        self, qs: QuerySet[AuditEvent], name: str, value: str
    ) -> QuerySet[AuditEvent]:
        value = value.strip()
        if value.endswith((".", "*")):
            return qs.filter(action__startswith=value.rstrip("*"))
        return qs.filter(action=value)

    def filter_model(self, qs: QuerySet[AuditEvent], name: str, value: str) -> QuerySet[AuditEvent]:
        value = value.strip()
        # The JSON columns are PostgreSQL ``json`` (canonical text): compare as text.
        match = _json_key_is("model", value)
        match |= _registry_targets(value)
        return qs.filter(match)

    def filter_deployment(
        self, qs: QuerySet[AuditEvent], name: str, value: str
    ) -> QuerySet[AuditEvent]:
        value = value.strip()
        return qs.filter(
            Q(target_type__endswith=".deployment", target_id=value)
            | _json_key_is("deployment", value)
        )


def bound_filterset(data: Any, queryset: QuerySet[AuditEvent]) -> AuditEventFilterSet:
    """The FilterSet bound to ``data`` over ``queryset``; invalid filters raise DomainError
    naming each field."""
    filterset = AuditEventFilterSet(data=data, queryset=queryset)
    if not filterset.is_valid():
        fields = {name: [str(e) for e in errors] for name, errors in filterset.errors.items()}
        raise DomainError("Invalid filters.", fields=fields)
    return filterset


def _json_key_is(key: str, value: str) -> Q:
    """Events whose ``changes`` or ``context`` has ``key`` equal to the string ``value``."""
    return Q(Exact(KT(f"changes__{key}"), value)) | Q(Exact(KT(f"context__{key}"), value))


def _registry_targets(value: str) -> Q:
    """Events whose target is the model, one of its versions or approvals — read defensively:
    the audit app must work whatever state the registry's tables are in."""
    try:
        from registry.models import AIModel, Approval, ModelVersion

        with transaction.atomic():
            model_id = parse_id(value)
            lookup = Q(slug=value) | Q(pk=model_id) if model_id else Q(slug=value)
            model_ids = list(AIModel.objects.filter(lookup).values_list("pk", flat=True)[:20])
            if not model_ids:
                return Q(pk__in=[])
            version_ids = list(
                ModelVersion.objects.filter(model_id__in=model_ids).values_list("pk", flat=True)[
                    :2000
                ]
            )
            approval_ids = list(
                Approval.objects.filter(version_id__in=version_ids).values_list("pk", flat=True)[
                    :5000
                ]
            )
    except (ImportError, LookupError, DatabaseError):
        return Q(pk__in=[])
    return (
        Q(target_type="registry.aimodel", target_id__in=[str(i) for i in model_ids])
        | Q(target_type="registry.modelversion", target_id__in=[str(i) for i in version_ids])
        | Q(target_type="registry.approval", target_id__in=[str(i) for i in approval_ids])
    )


def clean_filters(data: dict[str, Any]) -> dict[str, str]:
    """The filters given (non-empty, known names), as strings: stored with an export."""
    known = AuditEventFilterSet.base_filters
    return {
        key: str(value).strip()
        for key, value in data.items()
        if key in known and value not in (None, "") and str(value).strip()
    }
