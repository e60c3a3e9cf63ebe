"""PostgreSQL helpers shared by the hot write paths."""

from __future__ import annotations

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
        # psycopg keeps the query for Django's query log only when it is not prepared.
        self._query = pgq
        super()._send_query_prepared(name, pgq, binary=binary)


def prepared_cursor(connection: Any) -> Any:
    """A Django cursor (query logging, error translation) whose statements PostgreSQL
    parses and plans once per connection, then only executes. For a statement that runs on
    every request with a fixed text; everything else keeps Django's unprepared cursors.

    With ``DB_PREPARED_STATEMENTS=0`` (a transaction-pooling PgBouncer older than 1.21)
    the connection's ``prepare_threshold`` is None and psycopg prepares nothing."""
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        return connection._prepare_cursor(_PreparingCursor(connection.connection))
