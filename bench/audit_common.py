"""Shared by the audit benchmarks: generate a valid chain fast, and empty the audit tables
(inside the maintenance window the append-only triggers allow for the tables' owner)."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from typing import Any

BATCH = 20_000
ACTIONS = [
    "model_version.approved",
    "decision.allowed",
    "decision.denied",
    "provenance.signed",
    "auth.login",
    "policy.published",
]


def bench_size() -> int:
    return int(os.environ.get("BENCH_AUDIT_EVENTS", "1000000"))


def purge_audit_tables() -> None:
    from django.db import connection, transaction

    from audit.db import maintenance_sql

    before, after = maintenance_sql(connection.vendor)
    with transaction.atomic(), connection.cursor() as cursor:
        for sql in before:
            cursor.execute(sql)
        if connection.vendor == "postgresql":
            cursor.execute(
                "TRUNCATE audit_auditevent, audit_checkpoint, audit_reportexport, "
                "audit_chainhead, audit_chainverification"
            )
        else:
            for table in (
                "audit_reportexport",
                "audit_checkpoint",
                "audit_auditevent",
                "audit_chainhead",
                "audit_chainverification",
            ):
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed names
        for sql in after:
            cursor.execute(sql)


def event_fields(seq: int, when: datetime) -> dict[str, Any]:
    return {
        "seq": seq,
        "occurred_at": when,
        "actor_type": "user",
        "actor_id": str(seq % 50),
        "actor_label": f"user{seq % 50}",
        "action": ACTIONS[seq % len(ACTIONS)],
        "target_type": "registry.modelversion",
        "target_id": str(seq % 997),
        "target_label": f"Model {seq % 997} v{seq % 7}",
        "changes": {"status": {"before": "submitted", "after": "approved"}, "n": seq % 1000},
        "context": {"channel": "api", "ip": "10.0.0.7", "request_id": f"req-{seq:08d}"},
        "outcome": "denied" if seq % 6 == 2 else "success",
        "prev_hash": "",
    }


def generate_chain(n: int) -> None:
    """Replace the audit tables' contents with a valid chain of ``n`` events."""
    from django.db import connection, transaction

    from audit.chain import GENESIS_HASH, HASHED_FIELDS, canonical_bytes, canonical_text

    purge_audit_tables()
    columns = [*HASHED_FIELDS, "hash", "body"]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    prev = GENESIS_HASH
    seq = 0
    while seq < n:
        rows = []
        for _ in range(min(BATCH, n - seq)):
            seq += 1
            fields = event_fields(seq, start + timedelta(milliseconds=seq))
            fields["prev_hash"] = prev
            body = canonical_bytes(fields)
            prev = hashlib.sha256(body).hexdigest()
            rows.append(
                [
                    *(
                        canonical_text(fields[c]) if c in ("changes", "context") else fields[c]
                        for c in HASHED_FIELDS
                    ),
                    prev,
                    body.decode(),
                ]
            )
        with transaction.atomic():
            if connection.vendor == "postgresql":
                raw = connection.connection
                with (
                    raw.cursor() as cursor,
                    cursor.copy(f"COPY audit_auditevent ({', '.join(columns)}) FROM STDIN") as copy,
                ):
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(columns))
                with connection.cursor() as cursor:
                    for row in rows:
                        row[1] = connection.ops.adapt_datetimefield_value(row[1])
                    cursor.executemany(
                        f"INSERT INTO audit_auditevent ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608
                        rows,
                    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_chainhead (id, seq, hash) VALUES (1, %s, %s)", [seq, prev]
        )
    if connection.vendor == "postgresql":
        # What autovacuum does to a table that grew by inserts: statistics for the planner,
        # and the visibility map that lets index-only scans skip the rows.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE audit_auditevent")


def peak_rss_sampler() -> Any:
    """Start sampling this process's resident memory; call the result to stop and get the
    peak (bytes) seen since the start."""
    import threading
    import time

    page = os.sysconf("SC_PAGE_SIZE")
    peak = [0]
    stop = threading.Event()

    def rss() -> int:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * page

    def sample() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], rss())
            time.sleep(0.02)

    base = rss()
    thread = threading.Thread(target=sample, daemon=True)
    thread.start()

    def finish() -> tuple[int, int]:
        stop.set()
        thread.join()
        return base, max(peak[0], rss())

    return finish
