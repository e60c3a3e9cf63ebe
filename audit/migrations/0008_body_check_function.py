"""The body constraint calls a PL/pgSQL function holding the canonical text's SQL.

PostgreSQL reads a CHECK constraint's stored expression tree again for every INSERT statement;
this one's is 28 kB, a sixth of an append's database time. A PL/pgSQL function's plan is kept
by each session, so the constraint is now ``body IS NULL OR body = steward_audit_canonical(...)``
(``audit.pgverify.BODY_CHECK``) and means the same. The verifier trusts bodies only while the
constraint is validated, calls the function, and the function's source is still this code's.
Adding the constraint checks every existing row once.
"""

from django.db import migrations

CONSTRAINT = "audit_auditevent_body_matches_columns"


def to_function(apps, schema_editor):
    from audit.pgverify import BODY_CHECK, CANONICAL_FUNCTION_SQL

    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CANONICAL_FUNCTION_SQL)
    schema_editor.execute(f"ALTER TABLE audit_auditevent DROP CONSTRAINT IF EXISTS {CONSTRAINT}")
    schema_editor.execute(
        f"ALTER TABLE audit_auditevent ADD CONSTRAINT {CONSTRAINT} CHECK ({BODY_CHECK})"
    )


def to_inline(apps, schema_editor):
    from audit.pgverify import CANONICAL_FUNCTION, CANONICAL_SQL

    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE audit_auditevent DROP CONSTRAINT IF EXISTS {CONSTRAINT}")
    schema_editor.execute(
        f"ALTER TABLE audit_auditevent ADD CONSTRAINT {CONSTRAINT} "
        f"CHECK (body IS NULL OR body = {CANONICAL_SQL})"
    )
    schema_editor.execute(f"DROP FUNCTION IF EXISTS {CANONICAL_FUNCTION}")


class Migration(migrations.Migration):
    dependencies = [("audit", "0007_fewer_indexes")]

    operations = [migrations.RunPython(to_function, to_inline, elidable=False)]
