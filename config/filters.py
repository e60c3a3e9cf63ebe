"""Filters shared by the apps' FilterSets."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from drf_spectacular.utils import extend_schema_field

# The largest primary key any supported database stores (a signed 64-bit integer). A larger
# value cannot name a row, and SQLite refuses to bind it (OverflowError) instead of
# matching nothing, so the form field refuses it as bad input.
MAX_ID = 2**63 - 1


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    """A whole, positive row id: anything else is a 400 naming the filter, not a 500."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)
