"""record_event throughput vs plain INSERTs of the same rows: 1 writer, and 4 concurrent
writers on PostgreSQL (threads, one connection each). Goal: chained / plain ≥ 0.5.

Both are bound by the disk's flush latency, which swings with whatever else the machine
does: the two run in alternating rounds (``BENCH_AUDIT_APPEND_ROUNDS``, default 5) and the
figures are medians, the ratio the median of the per-round ratios."""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

from bench.audit_common import purge_audit_tables

N = 2000
_PLAIN_ROUNDS = itertools.count()


def _chained(writers: int, per_writer: int) -> float:
    from django.db import connection, transaction

    from audit.services import record_event

    barrier = threading.Barrier(writers + 1)

    def work(w: int) -> None:
        barrier.wait()
        for i in range(per_writer):
            with transaction.atomic():
                record_event(actor="bench", action="bench.append", changes={"i": i, "w": w})
        connection.close()

    threads = [threading.Thread(target=work, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    return writers * per_writer / (time.perf_counter() - started)


def _plain(writers: int, rows: list[dict[str, Any]]) -> float:
    """The same rows, one INSERT per transaction through the ORM, no chain, no lock."""
    from django.db import connection, transaction

    from audit.chain import GENESIS_HASH, canonical_bytes
    from audit.models import AuditEvent

    barrier = threading.Barrier(writers + 1)
    share = len(rows) // writers
    base = 10**12 + next(_PLAIN_ROUNDS) * 10**6  # seq is unique: each round its own range

    def prepared(w: int) -> list[dict[str, Any]]:
        out = []
        for i, row in enumerate(rows[w * share : (w + 1) * share]):
            seq = base + w * share + i
            data = {**row, "seq": seq, "hash": f"{seq:064d}", "prev_hash": GENESIS_HASH}
            # The same row as record_event writes, its canonical body included.
            data["body"] = canonical_bytes(data).decode()
            out.append(data)
        return out

    def work(w: int) -> None:
        datas = prepared(w)
        barrier.wait()
        for data in datas:
            with transaction.atomic():
                AuditEvent.objects.create(**data)
        connection.close()

    threads = [threading.Thread(target=work, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    return share * writers / (time.perf_counter() - started)


def run() -> list[dict[str, Any]]:
    import os
    import statistics

    from django.db import connection

    from audit.models import AuditEvent

    rounds = int(os.environ.get("BENCH_AUDIT_APPEND_ROUNDS", "5"))
    per_round = N // rounds
    figures: list[dict[str, Any]] = []
    for writers in (1, 4) if connection.vendor == "postgresql" else (1,):
        purge_audit_tables()
        _chained(writers, 20 // writers)  # warm-up, and rows to copy for the plain INSERTs
        rows = list(AuditEvent.objects.values()[:per_round])
        for row in rows:
            row.pop("id")
        rows = (rows * per_round)[:per_round]
        chained: list[float] = []
        plain: list[float] = []
        for _ in range(rounds):
            chained.append(_chained(writers, per_round // writers))
            plain.append(_plain(writers, rows))
        ratio = statistics.median(c / p for c, p in zip(chained, plain, strict=True))
        figures += [
            {
                "metric": f"record_event, {writers} writer(s) (median of {rounds} rounds)",
                "value": statistics.median(chained),
                "unit": "events/s",
            },
            {
                "metric": f"plain INSERT, {writers} writer(s)",
                "value": statistics.median(plain),
                "unit": "rows/s",
            },
            {
                "metric": f"append ratio, {writers} writer(s) (chained / plain)",
                "value": ratio,
                "unit": "x",
                "ratio": ratio,
                "goal": ">= 0.5",
                "met": ratio >= 0.5,
            },
        ]
    purge_audit_tables()
    return figures
