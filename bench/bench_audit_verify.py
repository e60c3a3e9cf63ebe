"""Verification speed over a BENCH_AUDIT_EVENTS-event chain (default 1,000,000), against
hashing the same canonical bytes with hashlib alone. Goal: verify / hashlib ≥ 0.5."""

from __future__ import annotations

import hashlib
import time
from typing import Any

from bench.audit_common import bench_size, generate_chain

SAMPLE = 100_000


def run() -> list[dict[str, Any]]:
    from audit.chain import canonical_bytes, iter_db_rows
    from audit.verification import verify_chain

    n = bench_size()
    started = time.perf_counter()
    generate_chain(n)
    generated = time.perf_counter() - started

    started = time.perf_counter()
    report = verify_chain(use_published=False)
    verify_rate = n / (time.perf_counter() - started)
    assert report.ok and report.count == n, report.reason

    # Baseline: hashlib alone over the canonical bytes of (a sample of) the same events.
    sample = []
    for event in iter_db_rows():
        sample.append(canonical_bytes(event))
        if len(sample) >= min(SAMPLE, n):
            break
    sha256 = hashlib.sha256
    started = time.perf_counter()
    for data in sample:
        sha256(data).hexdigest()
    hash_rate = len(sample) / (time.perf_counter() - started)
    ratio = verify_rate / hash_rate
    return [
        {
            "metric": f"chain generated ({n:,} events, COPY)",
            "value": n / generated,
            "unit": "events/s",
        },
        {
            "metric": f"verify {n:,} events (rebuild bytes + hash + links)",
            "value": verify_rate,
            "unit": "events/s",
        },
        {
            "metric": "hashlib alone on the same canonical bytes",
            "value": hash_rate,
            "unit": "events/s",
        },
        {
            "metric": "verify ratio (verify / hashlib)",
            "value": ratio,
            "unit": "x",
            "ratio": ratio,
            "goal": ">= 0.5",
            "met": ratio >= 0.5,
        },
    ]
