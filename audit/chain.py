"""The hash chain: canonical form of an event, its hash, and walking the chain."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import rfc8785

GENESIS_HASH = "0" * 64
HASHED_FIELDS = (
    "seq",
    "occurred_at",
    "actor_type",
    "actor_id",
    "actor_label",
    "action",
    "target_type",
    "target_id",
    "target_label",
    "changes",
    "context",
    "outcome",
    "prev_hash",
)


def format_time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def canonical_bytes(fields: dict[str, Any]) -> bytes:
    """RFC 8785 (JCS) bytes of the hashed fields; ``occurred_at`` may be a datetime or str."""
    body = {name: fields[name] for name in HASHED_FIELDS}
    if isinstance(body["occurred_at"], datetime):
        body["occurred_at"] = format_time(body["occurred_at"])
    return rfc8785.dumps(body)


def event_hash(fields: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(fields)).hexdigest()


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    first_seq: int | None
    last_seq: int | None
    count: int
    broken_seq: int | None = None
    reason: str = ""
    last_hash: str | None = None


def verify_events(
    events: Iterable[dict[str, Any]], *, expected_prev_hash: str | None = None
) -> ChainCheck:
    """Check links, sequence and hashes of events given in ``seq`` order.

    ``expected_prev_hash`` is the hash before the first event (the genesis hash when the
    walk starts at seq 1); None accepts whatever the first event names.
    """
    first: int | None = None
    last: int | None = None
    prev_hash = expected_prev_hash
    count = 0
    for event in events:
        seq = int(event["seq"])
        if first is None:
            first = seq
        elif last is not None and seq != last + 1:
            return ChainCheck(
                False, first, last, count, last + 1, f"gap: seq {last + 1} is missing", prev_hash
            )
        if prev_hash is not None and event["prev_hash"] != prev_hash:
            return ChainCheck(
                False,
                first,
                last,
                count,
                seq,
                "link mismatch: prev_hash does not match the previous event's hash",
                prev_hash,
            )
        computed = event_hash(event)
        if computed != event["hash"]:
            return ChainCheck(
                False,
                first,
                last,
                count,
                seq,
                "hash mismatch: the event's content was changed after it was written",
                prev_hash,
            )
        prev_hash = event["hash"]
        last = seq
        count += 1
    return ChainCheck(True, first, last, count, None, "", prev_hash)


def iter_db_events(start_seq: int = 1, end_seq: int | None = None) -> Iterator[dict[str, Any]]:
    from audit.models import AuditEvent

    qs = AuditEvent.objects.filter(seq__gte=start_seq).order_by("seq")
    if end_seq is not None:
        qs = qs.filter(seq__lte=end_seq)
    yield from qs.values(*HASHED_FIELDS, "hash").iterator(chunk_size=5000)
