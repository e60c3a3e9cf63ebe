"""The durability barrier of the chain on PostgreSQL (see ``audit.append``): a few
slot rows that a synchronous commit updates to flush the write-ahead log, and the function
that does it only when the log is not flushed already. Not a model: nothing reads the table,
and Django's flush must leave its rows alone."""

from django.db import migrations

SLOTS = 64
# Called in its own (autocommit, synchronous) transaction right after an append commits:
# when everything inserted so far is already on disk there is nothing to do (no write, no
# wait); otherwise a one-row update whose synchronous commit flushes the log past the
# append. SKIP LOCKED: concurrent barriers never queue on one row, so their flushes group.
FUNCTION = """
CREATE OR REPLACE FUNCTION steward_audit_flush() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    slot integer;
BEGIN
    IF pg_current_wal_flush_lsn() >= pg_current_wal_insert_lsn() THEN
        RETURN;
    END IF;
    SELECT id INTO slot FROM steward_audit_flush ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED;
    UPDATE steward_audit_flush SET n = n + 1 WHERE id = COALESCE(slot, 1);
END;
$$;
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE TABLE IF NOT EXISTS steward_audit_flush (id integer PRIMARY KEY, n bigint NOT NULL)"
    )
    schema_editor.execute(
        "INSERT INTO steward_audit_flush (id, n) SELECT slot, 0 "  # noqa: S608 - a constant
        f"FROM generate_series(1, {SLOTS}) AS slot ON CONFLICT (id) DO NOTHING"
    )
    schema_editor.execute(FUNCTION)


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS steward_audit_flush()")
        schema_editor.execute("DROP TABLE IF EXISTS steward_audit_flush")


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_append_only_triggers")]

    operations = [migrations.RunPython(install, uninstall)]
