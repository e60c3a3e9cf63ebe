"""The hash chain: canonical form of an event, its hash, and walking the chain."""

from __future__ import annotations

import hashlib
import json
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


# The C JSON encoder writes exactly the RFC 8785 bytes for strings, booleans, null, integers
# within ±2**53 and objects whose keys sort the same by code point as by UTF-16 unit (no key
# character at or above U+E000). Audit events are almost always made of just those, so they
# take the fast path; anything else (floats above all) goes through the reference encoder.
_fast_encode = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False
).encode
_MAX_SAFE_INT = 2**53 - 1


def _fast_path_ok(value: Any) -> bool:
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return True
    if kind is int:
        return -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or not (key.isascii() or max(key, default="a") < "\ue000"):
                return False
            if not _fast_path_ok(item):
                return False
        return True
    if kind is list:
        return all(_fast_path_ok(item) for item in value)
    return False


def as_doubles(value: Any) -> Any:
    """``value`` with every integer beyond ±2**53 as the double it stands for.

    RFC 8785 numbers are IEEE doubles, and such an integer can only have been a float when
    it was hashed (7.5e+23 FLOPs): PostgreSQL's jsonb hands that back as the integer
    750000000000000000000000, which is the same double again. The offline verifier applies
    the same rule (steward_client.verify)."""
    kind = type(value)
    if kind is int and not -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT:
        return float(value)
    if kind is dict:
        return {key: as_doubles(item) for key, item in value.items()}
    if kind is list:
        return [as_doubles(item) for item in value]
    return value


def canonicalize(value: Any) -> bytes:
    """RFC 8785 bytes of any JSON value (fast path when safe, else the ``rfc8785`` library)."""
    if _fast_path_ok(value):
        return _fast_encode(value).encode("utf-8")
    return rfc8785.dumps(as_doubles(value))


def canonical_text(value: Any) -> str:
    """RFC 8785 text of a JSON value: what the audit table's JSON columns store."""
    return canonicalize(value).decode("utf-8")


def canonical_bytes(fields: dict[str, Any]) -> bytes:
    """RFC 8785 (JCS) bytes of the hashed fields; ``occurred_at`` may be a datetime or str."""
    body = {name: fields[name] for name in HASHED_FIELDS}
    if isinstance(body["occurred_at"], datetime):
        body["occurred_at"] = format_time(body["occurred_at"])
    return canonicalize(body)


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


_COLUMNS = ", ".join([*HASHED_FIELDS, "hash"])


def iter_db_rows(
    start_seq: int = 1, end_seq: int | None = None, chunk_size: int = 5000
) -> Iterator[dict[str, Any]]:
    """Events as dicts of the hashed fields plus ``hash``, read with a plain (server-side on
    PostgreSQL) cursor: the verifier's hot path skips the ORM's per-row work."""
    from django.db import connection, transaction

    sql = f"SELECT {_COLUMNS} FROM audit_auditevent WHERE seq >= %s"  # noqa: S608 - fixed names
    params: list[Any] = [start_seq]
    if end_seq is not None:
        sql += " AND seq <= %s"
        params.append(end_seq)
    sql += " ORDER BY seq"
    names = [*HASHED_FIELDS, "hash"]
    changes_at = names.index("changes")
    context_at = names.index("context")
    time_at = names.index("occurred_at")
    loads = json.loads
    with transaction.atomic():
        # A named cursor needs a transaction on PostgreSQL; it streams in constant memory.
        cursor = connection.chunked_cursor()
        try:
            cursor.execute(sql, params)
            while True:
                rows = cursor.fetchmany(chunk_size)
                if not rows:
                    break
                for row in rows:
                    values = list(row)
                    for at in (changes_at, context_at):
                        if isinstance(values[at], str | bytes):
                            values[at] = loads(values[at])
                    when = values[time_at]
                    if isinstance(when, str):
                        when = datetime.fromisoformat(when)
                    if when.tzinfo is None:
                        when = when.replace(tzinfo=UTC)
                    values[time_at] = format_time(when)
                    yield dict(zip(names, values, strict=True))
        finally:
            cursor.close()
