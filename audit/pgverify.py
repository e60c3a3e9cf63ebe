"""The chain checked by PostgreSQL itself, in set-based queries: no event leaves the server.

Verifying re-derives every event's hashed bytes. Walking a million rows through Python costs
~10 µs a row where hashing costs under 1 µs. On PostgreSQL the JSON columns keep the canonical
text they were hashed as (``CanonicalJSONField``) and every other hashed field is a string, an
integer or the timestamp, so the server rebuilds the RFC 8785 bytes with string functions and
hashes them with ``sha256()`` in a parallel scan. ``to_json(text)`` escapes exactly as RFC 8785
does (``\\b \\f \\n \\r \\t``, ``\\"``, ``\\\\``, ``\\u00xx`` for other control characters,
everything else as is); tests hold ``CANONICAL_SQL`` equal to ``canonical_bytes``.

Rows written since migration 0006 also keep those bytes (``body``), held equal to the
columns by a CHECK constraint: while it holds, checking such a row is hashing its body.

A row whose bytes do not match its hash is only a candidate: a row written before the
JSON columns kept canonical text (or edited to equal JSON spelled otherwise) is re-checked from
its parsed values by the definition itself, ``audit.chain.event_hash``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from audit.chain import GENESIS_HASH, event_hash, iter_db_rows

GAP = "gap"
LINK = "link"
HASH = "hash"

_TIME = "to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
_STRINGS = (
    "action",
    "actor_id",
    "actor_label",
    "actor_type",
    "outcome",
    "prev_hash",
    "target_id",
    "target_label",
    "target_type",
)


def _canonical_sql(string: str) -> str:
    """The members in RFC 8785 order (sorted keys), each string column written by
    ``string`` (a format with one ``{}``); no percent sign: this text meets DB-API formatting."""
    action, actor_id, actor_label, actor_type, outcome, prev_hash, target_id, target_label, target_type = (
        string.format(column) for column in _STRINGS
    )  # fmt: skip
    return (
        f"'{{\"action\":' || {action} || ',\"actor_id\":' || {actor_id}"
        f" || ',\"actor_label\":' || {actor_label} || ',\"actor_type\":' || {actor_type}"
        " || ',\"changes\":' || changes::text || ',\"context\":' || context::text"
        f' || \',"occurred_at":"\' || {_TIME} || \'","outcome":\' || {outcome}'
        f" || ',\"prev_hash\":' || {prev_hash} || ',\"seq\":' || seq::text"
        f" || ',\"target_id\":' || {target_id} || ',\"target_label\":' || {target_label}"
        f" || ',\"target_type\":' || {target_type} || '}}'"
    )


# Almost no string needs escaping: then quotes around it are its JSON, and to_json(), which
# costs a quarter of the whole check, runs only for rows where some string needs it.
_NEEDS_ESCAPING = "(" + " || ".join(_STRINGS) + ") ~ '[\\x01-\\x1f\"\\\\]'"
_TO_JSON = "to_json({})::text"
_QUOTED = "'\"' || {} || '\"'"
CANONICAL_SQL = (
    f"CASE WHEN {_NEEDS_ESCAPING} THEN {_canonical_sql(_TO_JSON)}"
    f" ELSE {_canonical_sql(_QUOTED)} END"
)
_REHASH_DIFFERS = f"encode(sha256(convert_to({CANONICAL_SQL}, 'UTF8')), 'hex') <> hash"
# While this CHECK constraint holds (migrations 0006, 0008), a stored ``body`` IS the
# canonical text of its row's columns, and checking the row is hashing it. The constraint calls
# a PL/pgSQL function holding CANONICAL_SQL: PostgreSQL reads a constraint's expression tree
# anew for every INSERT statement (this one's is 28 kB: a sixth of an append's database time),
# while a PL/pgSQL function's plan is kept by each session.
BODY_CONSTRAINT = "audit_auditevent_body_matches_columns"
CANONICAL_FUNCTION = "steward_audit_canonical"
_COLUMN_TYPES = (
    ("action", "text"),
    ("actor_id", "text"),
    ("actor_label", "text"),
    ("actor_type", "text"),
    ("changes", "json"),
    ("context", "json"),
    ("occurred_at", "timestamptz"),
    ("outcome", "text"),
    ("prev_hash", "text"),
    ("seq", "bigint"),
    ("target_id", "text"),
    ("target_label", "text"),
    ("target_type", "text"),
)
# Parameters named as the columns: the body is CANONICAL_SQL itself.
CANONICAL_FUNCTION_SOURCE = f" BEGIN RETURN {CANONICAL_SQL}; END "
CANONICAL_FUNCTION_SQL = (
    f"CREATE OR REPLACE FUNCTION {CANONICAL_FUNCTION}("
    + ", ".join(f"{name} {kind}" for name, kind in _COLUMN_TYPES)
    + ") RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE "
    f"AS $canonical${CANONICAL_FUNCTION_SOURCE}$canonical$"
)
BODY_CHECK = (
    f"body IS NULL OR body = {CANONICAL_FUNCTION}("
    + ", ".join(name for name, _ in _COLUMN_TYPES)
    + ")"
)
# Trusted only if validated and calling the function, and the function is still this code's.
_BODY_HELD = (
    "SELECT c.convalidated AND p.prosrc = %s FROM pg_constraint c "
    "JOIN pg_depend d ON d.classid = 'pg_constraint'::regclass AND d.objid = c.oid "
    "AND d.refclassid = 'pg_proc'::regclass "
    "JOIN pg_proc p ON p.oid = d.refobjid AND p.proname = %s "
    "WHERE c.conrelid = 'audit_auditevent'::regclass AND c.conname = %s AND c.contype = 'c'"
)
_BODY_DIFFERS = (
    f"CASE WHEN body IS NULL THEN {_REHASH_DIFFERS} "
    "ELSE encode(sha256(convert_to(body, 'UTF8')), 'hex') <> hash END"
)

# The first event out of sequence or not linked to the one before it (one ordered index scan).
_FIRST_BROKEN_LINK = """
SELECT seq, prev_seq FROM (
    SELECT seq, prev_hash, lag(seq) OVER w AS prev_seq, lag(hash) OVER w AS prev_row_hash
    FROM audit_auditevent WHERE seq <= %s WINDOW w AS (ORDER BY seq)
) links
WHERE seq <> coalesce(prev_seq, 0) + 1 OR prev_hash <> coalesce(prev_row_hash, %s)
ORDER BY seq LIMIT 1
"""
# Where rebuilt bytes do not give the stored hash: how many, and the first. An aggregate (not
# ORDER BY ... LIMIT, which the planner would run as one ordered index scan) runs in parallel.
_CANDIDATES = "SELECT count(*), min(seq) FROM audit_auditevent WHERE seq >= %s AND seq < %s AND "
# Re-checked in Python before asking the server again, doubling each time: a long run of
# rows from before migration 0005 costs a few scans, not one per row.
_FIRST_BATCH = 1000


def bodies_trusted(cursor: Any) -> bool:
    """Whether the body constraint holds as migrated (then checking a row is hashing its body)."""
    cursor.execute(_BODY_HELD, [CANONICAL_FUNCTION_SOURCE, CANONICAL_FUNCTION, BODY_CONSTRAINT])
    held = cursor.fetchone()
    return bool(held and held[0])


def _first_hash_mismatch(cursor: Any, start: int, end: int) -> int | None:
    """Lowest seq in [start, end) whose content does not give its hash, by the definition."""
    differs = _BODY_DIFFERS if bodies_trusted(cursor) else _REHASH_DIFFERS
    batch = _FIRST_BATCH
    while start < end:
        cursor.execute(_CANDIDATES + differs, [start, end])
        count, first = cursor.fetchone()
        if not count:
            return None
        stop = min(end, first + batch)
        for event in iter_db_rows(first, stop - 1):
            if event_hash(event) != event["hash"]:
                return int(event["seq"])
        start, batch = stop, batch * 2
    return None


def _broken_link(cursor: Any, top: int) -> tuple[int, int | None] | None:
    cursor.execute(_FIRST_BROKEN_LINK, [top, GENESIS_HASH])
    return cursor.fetchone()  # type: ignore[no-any-return]


def _broken_link_on_own_connection(alias: str, top: int) -> tuple[int, int | None] | None:
    """``_broken_link`` from another thread, on that thread's own connection."""
    from django.db import connections

    try:
        with connections[alias].cursor() as cursor:
            return _broken_link(cursor, top)
    finally:
        connections[alias].close()


def first_failure(anchor_hashes: Mapping[int, Iterable[str]]) -> tuple[int, str, int | None]:
    """Walk the whole chain in the database; anchors are signed head hashes by seq.

    Returns ``(broken_seq, kind, last)``: the lowest seq that fails, why (``gap``, ``link``,
    ``hash`` or ``checkpoint``; ``broken_seq`` is 0 and kind "" when nothing fails), and the
    last seq of the good prefix (None when there is none).
    """
    from django.db import connection, transaction

    # The ordered walk over the links runs on one core; the hash scan in parallel beside it,
    # on a second connection, unless inside a transaction: its rows may not be committed.
    beside = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        # Events appended meanwhile are past ``top``: every query below stops there.
        cursor.execute("SELECT max(seq) FROM audit_auditevent")
        top = cursor.fetchone()[0]
        if top is None:
            return 0, "", None
        failures: list[tuple[int, int, str]] = []  # (seq, order at that seq, kind)
        if beside:
            with ThreadPoolExecutor(1) as pool:
                links = pool.submit(_broken_link_on_own_connection, connection.alias, top)
                cursor.execute("SET LOCAL max_parallel_workers_per_gather = 1")
                mismatch = _first_hash_mismatch(cursor, 1, top + 1)
                row = links.result()
        else:
            row = _broken_link(cursor, top)
            end = top + 1 if row is None else row[0]
            mismatch = _first_hash_mismatch(cursor, 1, end)
        if row is not None:
            seq, prev_seq = row
            expected = (prev_seq or 0) + 1
            failures.append((expected, 0, GAP) if seq != expected else (seq, 1, LINK))
        if mismatch is not None:
            failures.append((mismatch, 2, HASH))
        end = min(failures)[0] if failures else top + 1
        wanted = [seq for seq in anchor_hashes if seq < end]
        if wanted:
            cursor.execute("SELECT seq, hash FROM audit_auditevent WHERE seq = ANY(%s)", [wanted])
            for seq, stored in cursor.fetchall():
                if any(signed != stored for signed in anchor_hashes[seq]):
                    failures.append((seq, 3, "checkpoint"))
    if not failures:
        return 0, "", top
    broken, _order, kind = min(failures)
    return broken, kind, broken - 1 if broken > 1 else None
