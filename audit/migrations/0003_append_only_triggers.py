"""Append-only audit tables: triggers refuse UPDATE, DELETE and TRUNCATE (see audit/db.py).

SQLite caveat: SQLite rebuilds a table to alter it, which drops its triggers. A later
migration that alters audit_auditevent or audit_checkpoint must end with
``migrations.RunPython(install_triggers, uninstall_triggers)`` again;
tests/audit/test_append_only.py checks the triggers exist after all migrations.
"""

from django.db import migrations


def install(apps, schema_editor):
    from audit.db import install_triggers

    install_triggers(schema_editor)


def uninstall(apps, schema_editor):
    from audit.db import uninstall_triggers

    uninstall_triggers(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_checkpoints_and_exports")]

    operations = [migrations.RunPython(install, uninstall)]
