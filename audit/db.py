"""Database-level protection of the audit tables (installed by migration 0003).

PostgreSQL: triggers refuse UPDATE, DELETE and TRUNCATE on the events and checkpoints. A
DELETE or TRUNCATE goes through only inside a transaction that ran
``SET LOCAL steward.audit_maintenance = 'on'`` — nothing in the application does; test
databases are flushed that way between tests (see ``flushable_audit_tables``). UPDATE is
refused always. The triggers guard against mistakes by the tables' owner; the real barrier is
running the application under a role with only SELECT and INSERT on these tables (README).

SQLite has no roles and no session settings: triggers refuse UPDATE always and DELETE unless
the ``steward_audit_maintenance`` table holds a row, which only a flush inserts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

PROTECTED_TABLES = ("audit_auditevent", "audit_checkpoint")
MAINTENANCE_SETTING = "steward.audit_maintenance"
SQLITE_MAINTENANCE_TABLE = "steward_audit_maintenance"

PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION steward_audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' AND current_setting('{MAINTENANCE_SETTING}', true) = 'on' THEN
        IF TG_LEVEL = 'ROW' THEN
            RETURN OLD;
        END IF;
        RETURN NULL;
    END IF;
    -- No percent-sign placeholders: this text passes through DB-API parameter formatting.
    RAISE EXCEPTION USING
        MESSAGE = 'the audit trail is append-only: ' || TG_OP || ' on ' || TG_TABLE_NAME
            || ' refused',
        ERRCODE = 'insufficient_privilege';
END;
$$;
"""


def pg_install_sql() -> list[str]:
    sql = [PG_FUNCTION]
    for table in PROTECTED_TABLES:
        sql += [
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};",
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION steward_audit_refuse_change();",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION steward_audit_refuse_change();",
        ]
    return sql


def pg_uninstall_sql() -> list[str]:
    sql = []
    for table in PROTECTED_TABLES:
        sql += [
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};",
        ]
    return [*sql, "DROP FUNCTION IF EXISTS steward_audit_refuse_change();"]


def sqlite_install_sql() -> list[str]:
    sql = [f"CREATE TABLE IF NOT EXISTS {SQLITE_MAINTENANCE_TABLE} (id INTEGER PRIMARY KEY)"]
    for table in PROTECTED_TABLES:
        sql += [
            f"DROP TRIGGER IF EXISTS {table}_no_update",
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} BEGIN "
            f"SELECT RAISE(ABORT, 'the audit trail is append-only: UPDATE on {table} refused'); "
            "END",
            f"DROP TRIGGER IF EXISTS {table}_no_delete",
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "  # noqa: S608
            f"WHEN NOT EXISTS (SELECT 1 FROM {SQLITE_MAINTENANCE_TABLE}) BEGIN "
            f"SELECT RAISE(ABORT, 'the audit trail is append-only: DELETE on {table} refused'); "
            "END",
        ]
    return sql


def sqlite_uninstall_sql() -> list[str]:
    sql = []
    for table in PROTECTED_TABLES:
        sql += [
            f"DROP TRIGGER IF EXISTS {table}_no_update",
            f"DROP TRIGGER IF EXISTS {table}_no_delete",
        ]
    return [*sql, f"DROP TABLE IF EXISTS {SQLITE_MAINTENANCE_TABLE}"]


def install_triggers(schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        statements = pg_install_sql()
    elif vendor == "sqlite":
        statements = sqlite_install_sql()
    else:  # pragma: no cover - settings allow only these two
        return
    for statement in statements:
        schema_editor.execute(statement)


def uninstall_triggers(schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    statements = pg_uninstall_sql() if vendor == "postgresql" else sqlite_uninstall_sql()
    for statement in statements:
        schema_editor.execute(statement)


def maintenance_sql(vendor: str) -> tuple[list[str], list[str]]:
    """Statements that open and close a purge window inside one transaction."""
    if vendor == "postgresql":
        return [f"SET LOCAL {MAINTENANCE_SETTING} = 'on'"], []
    if vendor == "sqlite":
        return (
            [f"INSERT OR IGNORE INTO {SQLITE_MAINTENANCE_TABLE} (id) VALUES (1)"],  # noqa: S608
            [f"DELETE FROM {SQLITE_MAINTENANCE_TABLE}"],  # noqa: S608
        )
    return [], []


@contextmanager
def flushable_audit_tables() -> Iterator[None]:
    """Let Django's ``flush`` (which test databases run between transactional tests) empty
    the audit tables: every flush opens a maintenance window in its own transaction.

    For test suites only; production never flushes its audit trail.
    """
    from django.db.backends.base.operations import BaseDatabaseOperations

    original = BaseDatabaseOperations.execute_sql_flush

    def execute_sql_flush(self: BaseDatabaseOperations, sql_list: Iterable[str]) -> None:
        before, after = maintenance_sql(self.connection.vendor)
        original(self, [*before, *sql_list, *after])

    BaseDatabaseOperations.execute_sql_flush = execute_sql_flush  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        BaseDatabaseOperations.execute_sql_flush = original  # type: ignore[method-assign]
