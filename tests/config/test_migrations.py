"""The migrations match the models, and write-hot tables carry only indexes queries use."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

pytestmark = pytest.mark.django_db


def test_every_model_change_has_its_migration():
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exit_:  # --check exits 1 when a migration is missing
        pytest.fail(f"makemigrations would create migrations ({exit_.code}):\n{out.getvalue()}")


def test_a_signing_job_row_updates_only_the_indexes_queries_use():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no varchar_pattern_ops twins")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'provenance_signingjob'"
        )
        indexes = dict(cursor.fetchall())
    assert not [name for name in indexes if name.endswith("_like")]
    # The sweep index (status, enqueued_at) serves every filter on status.
    status_only = [d for d in indexes.values() if d.endswith("USING btree (status)")]
    assert status_only == []
    assert "prov_job_sweep_idx" in indexes
    # Verification looks up these whole: their plain btree indexes stay.
    for column in ("input_sha256", "output_sha256", "manifest_label", "watermark_id"):
        assert any(d.endswith(f"USING btree ({column})") for d in indexes.values()), column
