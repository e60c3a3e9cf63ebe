"""Migration operations shared by the apps."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def DropPatternIndex(model_name: str, field_name: str) -> migrations.RunPython:
    """Drop the ``varchar_pattern_ops`` index PostgreSQL gets beside the index of every
    unique or indexed CharField: it serves only ``LIKE 'prefix%'``, which nothing asks of
    this column, and costs every insert an index update. (Not part of Django's model state,
    so nothing else changes; SQLite has none.) Reversible: the index is rebuilt."""

    def names(apps: Any, schema_editor: Any) -> tuple[str, str, str]:
        model = apps.get_model(*model_name.split("."))
        table = model._meta.db_table
        column = model._meta.get_field(field_name).column
        return table, column, schema_editor._create_index_name(table, [column], suffix="_like")

    def drop(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        _, _, index = names(apps, schema_editor)
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(index)}")

    def create(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        table, column, index = names(apps, schema_editor)
        quote = schema_editor.quote_name
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {quote(index)} "
            f"ON {quote(table)} ({quote(column)} varchar_pattern_ops)"
        )

    return migrations.RunPython(drop, create, elidable=False)
