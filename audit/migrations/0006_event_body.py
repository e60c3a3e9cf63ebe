"""Each event keeps the exact bytes its hash covers (``body``), held equal to its columns.

On PostgreSQL a CHECK constraint makes ``body`` equal to the canonical text rebuilt from the
columns (``audit.pgverify.CANONICAL_SQL``): a column cannot be edited without its body, even
by the tables' owner with the append-only triggers disabled, and verifying the chain is
hashing ``body``. The verifier takes that shortcut only while the constraint exists and is
validated; otherwise it rebuilds every event from its columns. (Since 0008 the constraint calls
a function holding CANONICAL_SQL: changing CANONICAL_SQL needs a migration that replaces it.)

Rows written before this migration keep a NULL body and are checked from their columns.
SQLite rebuilds the table to add the column, which drops its triggers: installed again (0003).
"""

from django.db import migrations, models

CONSTRAINT = "audit_auditevent_body_matches_columns"
LINKS_INDEX = "audit_auditevent_seq_links"


def add_constraint(apps, schema_editor):
    from audit.db import install_triggers
    from audit.pgverify import CANONICAL_SQL

    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE audit_auditevent ADD CONSTRAINT {CONSTRAINT} "
            f"CHECK (body IS NULL OR body = {CANONICAL_SQL})"
        )
        # seq's unique index also carries the links, so the verifier's ordered walk over
        # (seq, hash, prev_hash) reads the index alone, not the (wide) rows.
        schema_editor.execute(
            f"CREATE UNIQUE INDEX {LINKS_INDEX} ON audit_auditevent (seq) INCLUDE (hash, prev_hash)"
        )
        schema_editor.execute(
            "ALTER TABLE audit_auditevent DROP CONSTRAINT audit_auditevent_seq_key"
        )
    else:
        install_triggers(schema_editor)


def drop_constraint(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE audit_auditevent ADD CONSTRAINT audit_auditevent_seq_key UNIQUE (seq)"
        )
        schema_editor.execute(f"DROP INDEX {LINKS_INDEX}")
        schema_editor.execute(f"ALTER TABLE audit_auditevent DROP CONSTRAINT {CONSTRAINT}")


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_canonical_json_columns")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="body",
            field=models.TextField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(add_constraint, drop_constraint),
    ]
