"""Database helpers for the hot paths: prepared statements, rows read without the ORM."""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

import psycopg

# psycopg prepares a statement once it has run this many times on a connection. Django's
# cursors bind parameters on the client and never prepare; only ``prepared_cursor`` asks
# for it, so the threshold is set out of reach and ``prepare=True`` does the rest.
EXPLICIT_ONLY = 2**31 - 1


class _PreparingCursor(psycopg.Cursor):  # type: ignore[type-arg]
    """Server-side parameter binding; each statement prepared on first use (when the
    connection allows prepared statements at all: ``DB_PREPARED_STATEMENTS``)."""

    def execute(
        self, query: Any, params: Any = None, *, prepare: Any = None, binary: Any = None
    ) -> Any:  # type: ignore[override]
        return super().execute(query, params, prepare=True, binary=binary)

    def _send_query_prepared(self, name: bytes, pgq: Any, *, binary: Any = None) -> None:
        # psycopg keeps the query for Django's query log only when it is not prepared (a
        # private method of psycopg 3.3, which pyproject pins; tests read the query log).
        self._query = pgq
        super()._send_query_prepared(name, pgq, binary=binary)


def prepared_cursor(connection: Any) -> Any:
    """A Django cursor (query logging, error translation) whose statements PostgreSQL
    parses and plans once per connection, then only executes. For a statement that runs on
    every request with a fixed text; everything else keeps Django's unprepared cursors.

    With ``DB_PREPARED_STATEMENTS=0`` (a transaction-pooling PgBouncer older than 1.21)
    the connection's ``prepare_threshold`` is None and psycopg prepares nothing. Other
    databases: their ordinary cursor."""
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        return connection._prepare_cursor(_PreparingCursor(connection.connection))


class RowReader:
    """Model instances from rows of a hand-written SELECT, as the ORM would build them: the
    columns of each model in ``models`` in turn (``columns()`` lists them, qualified by table),
    each value through its field's database converters, then ``Model.from_db``. For a query
    run on every request, whose ORM compilation would cost more than running it."""

    def __init__(self, *models: type[Any]) -> None:
        self.models = models
        self.fields = [list(m._meta.concrete_fields) for m in models]
        self.attnames = [[f.attname for f in fields] for fields in self.fields]
        self._converters: Any = weakref.WeakKeyDictionary()

    def columns(self, connection: Any) -> str:
        quote = connection.ops.quote_name
        return ", ".join(
            f"{quote(model._meta.db_table)}.{quote(field.column)}"
            for model, fields in zip(self.models, self.fields, strict=True)
            for field in fields
        )

    @property
    def width(self) -> int:
        return sum(len(fields) for fields in self.fields)

    def _for(self, connection: Any) -> list[list[tuple[int, list[Any], Any]]]:
        # Converters are bound to their connection (per thread): kept per connection.
        found = self._converters.get(connection)
        if found is None:
            found = []
            for model, fields in zip(self.models, self.fields, strict=True):
                per_model = []
                for i, field in enumerate(fields):
                    col = field.get_col(model._meta.db_table)
                    funcs = connection.ops.get_db_converters(col) + field.get_db_converters(
                        connection
                    )
                    if funcs:
                        per_model.append((i, funcs, col))
                found.append(per_model)
            self._converters[connection] = found
        return found  # type: ignore[no-any-return]

    def read(self, connection: Any, row: Sequence[Any]) -> list[Any]:
        """One instance per model from the first ``width`` values of ``row``. ``connection``:
        the database wrapper itself (``transaction.get_connection()``), not the proxy."""
        instances, start = [], 0
        for model, attnames, converters in zip(
            self.models, self.attnames, self._for(connection), strict=True
        ):
            values = list(row[start : start + len(attnames)])
            for i, funcs, col in converters:
                for func in funcs:
                    values[i] = func(values[i], col, connection)
            instances.append(model.from_db(connection.alias, attnames, values))
            start += len(attnames)
        return instances
