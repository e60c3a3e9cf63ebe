"""record_event throughput vs plain INSERTs of the same rows (single writer, this database).

The audit issue extends this with 4 concurrent writers on PostgreSQL."""

from __future__ import annotations

import time
from typing import Any

N = 2000


def run() -> list[dict[str, Any]]:
    from django.db import transaction

    from audit.chain import GENESIS_HASH
    from audit.models import AuditEvent
    from audit.services import record_event

    start_seq = (AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()) or 0

    started = time.perf_counter()
    for i in range(N):
        with transaction.atomic():
            record_event(actor="bench", action="bench.append", changes={"i": i})
    chained = N / (time.perf_counter() - started)

    # Baseline: the same rows, plain INSERT in their own transactions, no chain.
    rows = list(AuditEvent.objects.filter(seq__gt=start_seq).values()[:N])
    base_seq = 10**12
    started = time.perf_counter()
    for i, row in enumerate(rows):
        row.pop("id")
        row["seq"] = base_seq + i
        row["hash"] = f"{base_seq + i:064d}"
        row["prev_hash"] = GENESIS_HASH
        with transaction.atomic():
            AuditEvent.objects.create(**row)
    plain = len(rows) / (time.perf_counter() - started)
    ratio = chained / plain
    return [
        {"metric": "record_event, 1 writer", "value": chained, "unit": "events/s"},
        {"metric": "plain INSERT, 1 writer", "value": plain, "unit": "rows/s"},
        {
            "metric": "append ratio (chained / plain)",
            "value": ratio,
            "unit": "x",
            "ratio": ratio,
            "goal": ">= 0.5",
            "met": ratio >= 0.5,
        },
    ]
