"""Export of BENCH_AUDIT_EVENTS events (default 1,000,000) to a signed JSON Lines bundle,
against PostgreSQL ``COPY ... TO STDOUT`` of the same rows, with the peak memory it took.
Goal: flat memory, under 200 MB."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.audit_common import bench_size, generate_chain, peak_rss_sampler


def run() -> list[dict[str, Any]]:
    from django.conf import settings
    from django.db import connection

    from audit.chain import HASHED_FIELDS
    from audit.models import AuditEvent, ReportExport
    from audit.services import export_run

    n = bench_size()
    if AuditEvent.objects.count() != n:
        generate_chain(n)
    work = Path(tempfile.mkdtemp(prefix="steward-bench-export-"))
    settings.STEWARD_AUDIT_EXPORT_DIR = work / "exports"
    settings.STEWARD_AUDIT_CHECKPOINT_DIR = work / "checkpoints"
    settings.STEWARD_AUDIT_PUBLIC_KEYS_DIR = work / "public"
    if not settings.STEWARD_AUDIT_SIGNING_KEY:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        settings.STEWARD_AUDIT_SIGNING_KEY = (
            Ed25519PrivateKey.generate()
            .private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            .decode()
        )
    export = ReportExport.objects.create(format="jsonl", filters={})
    finish = peak_rss_sampler()
    started = time.perf_counter()
    export_run(export_id=export.pk)
    elapsed = time.perf_counter() - started
    base, peak = finish()
    export.refresh_from_db()
    assert export.status == "succeeded", export.error
    rate = export.count / elapsed
    figures: list[dict[str, Any]] = [
        {
            "metric": f"export {export.count:,} events to a JSONL bundle",
            "value": rate,
            "unit": "events/s",
        },
        {
            "metric": "export peak memory above the start (RSS)",
            "value": (peak - base) / 2**20,
            "unit": "MB",
            "goal": "< 200",
            "met": (peak - base) / 2**20 < 200,
        },
        {"metric": "bundle size", "value": export.bundle_size / 2**20, "unit": "MB"},
    ]
    if connection.vendor == "postgresql":
        columns = ", ".join([*HASHED_FIELDS, "hash"])
        started = time.perf_counter()
        size = 0
        with (
            connection.connection.cursor() as cursor,
            cursor.copy(
                f"COPY (SELECT {columns} FROM audit_auditevent ORDER BY seq) TO STDOUT"  # noqa: S608
            ) as copy,
        ):
            for block in copy:
                size += len(block)
        copy_rate = n / (time.perf_counter() - started)
        ratio = rate / copy_rate
        figures += [
            {"metric": "COPY TO STDOUT of the same rows", "value": copy_rate, "unit": "rows/s"},
            {"metric": "export ratio (export / COPY)", "value": ratio, "unit": "x", "ratio": ratio},
        ]
    shutil.rmtree(work, ignore_errors=True)
    return figures
