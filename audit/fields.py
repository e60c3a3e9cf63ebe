"""A JSON column that keeps the exact RFC 8785 text it was written as."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import expressions


class CanonicalJSONField(models.JSONField):
    """JSON stored as its RFC 8785 (JCS) text: PostgreSQL ``json``, which keeps the text it is
    given byte for byte, rather than ``jsonb``, which re-serialises it.

    The audit chain hashes the canonical text of ``changes`` and ``context``; keeping that
    text lets PostgreSQL rebuild an event's hashed bytes with string functions alone and
    verify a million events in one set-based query (``audit.verification``). Key lookups
    that compare JSON values (``changes__model=...``) need ``jsonb``; compare text instead
    (``KT("changes__model")``). SQLite stores JSON as text already, also canonical here.
    """

    def db_type(self, connection: Any) -> str | None:
        if connection.vendor == "postgresql":
            return "json"
        return super().db_type(connection)

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        if hasattr(value, "as_sql") and not isinstance(value, expressions.Value):
            return value
        if isinstance(value, expressions.Value):
            value = value.value
        from audit.chain import canonical_text

        text = canonical_text(value)
        if connection.vendor == "postgresql":
            from psycopg.types.json import Json

            # ``Json`` (not Django's ``Jsonb``): sent as type json, stored verbatim.
            return Json(value, dumps=lambda _value: text)
        return text

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        # psycopg parses ``json`` columns itself (Django registers a text loader for jsonb only).
        if value is None or not isinstance(value, str):
            return value
        return super().from_db_value(value, expression, connection)
