"""Filters shared by the apps' FilterSets."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import extend_schema_field

from config.ids import MAX_ID


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    """A whole, positive row id: anything else is a 400 naming the filter, not a 500."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 time, in UTC.

    Python accepts UTC offsets up to ±23:59, PostgreSQL only up to ±15:59 (a DataError: 500),
    and a time near year 1 or 9999 may have no UTC equivalent at all (OverflowError).
    """

    default_error_messages = {"out_of_range": "This time has no UTC equivalent."}

    def to_python(self, value: Any) -> datetime | None:
        parsed: datetime | None = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC)
        except OverflowError as exc:
            raise forms.ValidationError(
                self.error_messages["out_of_range"], code="out_of_range"
            ) from exc


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


def filtered(filterset: django_filters.FilterSet) -> Any:
    """The rows a list page shows: none when a filter is invalid. django-filter would drop the
    invalid filter and list every row as if it applied (a mistyped date, say)."""
    if filterset.is_bound and not filterset.is_valid():
        return filterset.queryset.none()
    return filterset.qs


def filter_status(filterset: django_filters.FilterSet) -> int:
    """400 for a page whose filters are invalid (the form shows why), else 200."""
    return 400 if filterset.is_bound and filterset.errors else 200
