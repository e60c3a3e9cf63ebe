"""Decision rows stay whole in their page (PostgreSQL).

A decision row is about 2.5 kB, most of it the input snapshot: just over the 2 kB at which
PostgreSQL compresses the largest value and moves it to the TOAST table, which cost each
policy check a compression, a second heap insert and a TOAST index insert (a tenth of the
database's time per check). Up to 8 kB a row is now stored as it is.
"""

from django.db import migrations


def inline(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE policy_decision SET (toast_tuple_target = 8160)")


def default(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE policy_decision RESET (toast_tuple_target)")


class Migration(migrations.Migration):
    dependencies = [("policy", "0002_fewer_indexes")]

    operations = [migrations.RunPython(inline, default, elidable=False)]
