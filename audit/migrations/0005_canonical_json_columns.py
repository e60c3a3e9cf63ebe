"""``changes`` and ``context`` keep the canonical JSON text the chain hashes (PostgreSQL
``json`` instead of ``jsonb``), so PostgreSQL can verify the chain by itself.

Rows written before this migration hold jsonb's re-serialised text: the set-based check
flags them and the verifier re-checks each one from its parsed values, as before. They verify
the same, only at the old speed. SQLite rebuilds the table to alter it, which drops its
append-only triggers: they are installed again at the end (see 0003).
"""

from django.db import migrations

import audit.fields


def reinstall_triggers(apps, schema_editor):
    from audit.db import install_triggers

    install_triggers(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_durability_barrier"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="changes",
            field=audit.fields.CanonicalJSONField(blank=True, default=dict),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="context",
            field=audit.fields.CanonicalJSONField(blank=True, default=dict),
        ),
        migrations.RunPython(reinstall_triggers, migrations.RunPython.noop),
    ]
