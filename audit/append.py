"""Appending to the hash chain: the head's lock, the event's insert, the durability barrier.

``audit.services.record_event`` is the door every service uses; this is the machinery
behind it, raw SQL because it runs for every change in Steward.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from audit.chain import HASHED_FIELDS, canonical_bytes, event_hash
from audit.checkpoints import locked_head
from audit.models import AuditEvent
from config.db import prepared_cursor


@dataclass(frozen=True)
class RowInsert:
    """The changed row's own insert, handed to ``record_event`` so that it is written by the
    same statement as its audit event on PostgreSQL (one round trip, and no transaction of
    its own is needed: see ``append_event``). Values are prepared for the database already
    (``Field.get_db_prep_save``). Its new primary key becomes the event's target id (give
    the target as ``(type, None, label)``)."""

    table: str
    columns: Sequence[str]
    params: Sequence[Any]
    pk_column: str = "id"

    def values_sql(self, connection: Any) -> str:
        quote = connection.ops.quote_name
        sql = (
            f"INSERT INTO {quote(self.table)} ({', '.join(quote(c) for c in self.columns)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(self.columns))})"
        )
        if connection.features.can_return_columns_from_insert:
            sql += f" RETURNING {quote(self.pk_column)}"
        return sql

    @classmethod
    def of(cls, instance: models.Model) -> RowInsert:
        """``instance.save()`` for a new row, minus the ORM's per-call SQL compilation: each
        value is prepared by its own field exactly as ``save()`` would."""
        connection = transaction.get_connection()
        fields = _insert_fields(type(instance))
        return cls(
            instance._meta.db_table,
            [str(f.column) for f in fields],
            [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields],
            str(instance._meta.pk.column),  # type: ignore[union-attr]
        )


@functools.cache
def _insert_fields(model: type[models.Model]) -> list[Any]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


@dataclass(frozen=True)
class RowUpdate:
    """A conditional update of the changed row, handed to ``record_event`` so that it is
    written by the same statement as its audit event on PostgreSQL (one round trip, no
    transaction of its own needed). The event is written only if the update changes a row;
    otherwise nothing is written and ``record_event`` returns None (a job whose claim was
    lost, say). ``columns``/``params``: what to set, values prepared for the database
    already (``Field.get_db_prep_save``); ``where``: (column, value) pairs that must all
    be equal, the primary key among them (one event is written for one row)."""

    table: str
    columns: Sequence[str]
    params: Sequence[Any]
    where: Sequence[tuple[str, Any]]

    def sql(self, connection: Any) -> tuple[str, list[Any]]:
        quote = connection.ops.quote_name
        table = quote(self.table)
        assignments = ", ".join(f"{quote(c)} = %s" for c in self.columns)
        conditions = " AND ".join(f"{table}.{quote(c)} = %s" for c, _ in self.where)
        sql = f"UPDATE {table} SET {assignments} WHERE {conditions}"  # noqa: S608
        return sql, [*self.params, *(value for _, value in self.where)]

    @classmethod
    def of(
        cls, model: type[models.Model], values: Mapping[str, Any], where: Mapping[str, Any]
    ) -> RowUpdate:
        """``model.objects.filter(**where).update(**values)`` as a plain statement (the
        queryset would compile it on every call): values by field name, each prepared by its
        field as the queryset would (JSON, dates, a model instance for a foreign key)."""
        connection = transaction.get_connection()
        columns, params = [], []
        for name, value in values.items():
            field = model._meta.get_field(name)
            if isinstance(value, models.Model):
                value = value.pk
            columns.append(str(field.column))  # type: ignore[union-attr]
            params.append(field.get_db_prep_save(value, connection))  # type: ignore[union-attr]
        conditions = [
            (str(model._meta.get_field(name).column), value)  # type: ignore[union-attr]
            for name, value in where.items()
        ]
        return cls(model._meta.db_table, columns, params, conditions)


_INSERT_COLUMNS = (*HASHED_FIELDS, "hash", "body")
_JSON_COLUMNS = ("changes", "context")


def _placeholders(vendor: str) -> str:
    cast = "::json" if vendor == "postgresql" else ""
    return ", ".join(f"%s{cast}" if name in _JSON_COLUMNS else "%s" for name in _INSERT_COLUMNS)


# The chain head's row lock serialises appends until commit, and a synchronous commit holds
# it through the write-ahead log flush: every append anywhere would queue behind one disk
# flush after another (~4 ms here), and no two could share a flush. So on PostgreSQL the
# appending transaction commits asynchronously (the lock is released as soon as the commit
# record is in the log buffer) and, right after the commit, a synchronous commit of an
# unrelated one-row update flushes the log up to and past it: concurrent appenders' flushes
# group together, and no caller continues before its change and its event are on disk.
# A crash can only lose a suffix of the log, so what survives is still a gapless chain.
# The barrier is ``steward_audit_flush()`` (audit migration 0004).
_LOCK_HEAD_ASYNC = (
    "SELECT seq, hash, set_config('synchronous_commit', 'off', true) "
    "FROM audit_chainhead WHERE id = 1 FOR UPDATE"
)


def _flush_barrier(alias: str) -> None:
    """Wait until the write-ahead log holds everything committed before (see above)."""
    from django.db import connections

    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT steward_audit_flush()")


def _flush_after_commit(connection: Any) -> None:
    """Run the durability barrier once after the current transaction commits."""
    for _sids, func, _robust in connection.run_on_commit:
        if getattr(func, "steward_flush_barrier", False):
            return
    alias = connection.alias

    def barrier() -> None:
        _flush_barrier(alias)

    barrier.steward_flush_barrier = True  # type: ignore[attr-defined]
    transaction.on_commit(barrier, using=alias)


def _lock_head_async_commit(cursor: Any) -> tuple[int, str]:
    """``locked_head()`` that also turns this transaction's commit asynchronous (one round
    trip)."""
    cursor.execute(_LOCK_HEAD_ASYNC)
    row = cursor.fetchone()
    if row is None:  # the head row is created on first use
        locked_head()
        cursor.execute(_LOCK_HEAD_ASYNC)
        row = cursor.fetchone()
    return int(row[0]), str(row[1])


def _insert_row(connection: Any, cursor: Any, insert: RowInsert) -> Any:
    cursor.execute(insert.values_sql(connection), insert.params)
    if connection.features.can_return_columns_from_insert:
        return cursor.fetchone()[0]
    return cursor.lastrowid


# PostgreSQL appends with ONE statement: it locks the head, inserts the changed row (if
# any), hashes and inserts the event and moves the head. So the head's lock is held only for
# as long as PostgreSQL runs that statement, never across a round trip to this process (nor
# while this thread waits for the GIL), and a change written by the same statement as its
# event (a policy decision) needs no transaction of its own (no BEGIN/COMMIT round trips).
# The hash is still the one ``audit.chain.event_hash`` defines: Python builds the canonical
# bytes of the event with a unique marker in place of each value known only under the lock
# (seq, prev_hash, occurred_at, and the new row's id as target_id); PostgreSQL writes those
# values in (integers bare; the strings are hex digits, decimal digits and an ISO time, which
# need no escaping) and takes the SHA-256. Python then checks the stored hash against
# ``event_hash`` of the values the statement returns.
_MARK = f"steward-splice-{secrets.token_hex(8)}"
_SPLICE_SQL = {
    "seq": "ev.seq::text",
    "prev_hash": "'\"' || ev.prev_hash || '\"'",
    # audit.chain.format_time: UTC, microseconds, "Z".
    "occurred_at": "'\"' || to_char(ev.occurred_at AT TIME ZONE 'UTC', "
    '\'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\') || \'"\'',
    "target_id": "'\"' || ev.target_id || '\"'",
}
_UNDER_LOCK = frozenset({"seq", "occurred_at", "target_id", "prev_hash", "hash", "body"})


def _hash_template(fields: dict[str, Any], spliced: Sequence[str]) -> list[tuple[str, str]] | None:
    """The event's canonical text cut at each spliced value: [(text before, value name)...,
    (rest, "")]. None if a marker is not found exactly once (then the caller falls back)."""
    probe = {**fields, **{name: f"{_MARK}-{name}" for name in spliced}}
    text = canonical_bytes(probe).decode("utf-8")
    found = []
    for name in spliced:
        marker = f'"{_MARK}-{name}"'
        at = text.find(marker)
        if at < 0 or text.find(marker, at + 1) >= 0:
            return None
        found.append((at, name, len(marker)))
    found.sort()
    pieces, last = [], 0
    for at, name, length in found:
        pieces.append((text[last:at], name))
        last = at + length
    pieces.append((text[last:], ""))
    return pieces


def _append_one_statement(
    connection: Any,
    fields: dict[str, Any],
    changes_json: str,
    context_json: str,
    insert: RowInsert | None,
    update: RowUpdate | None = None,
) -> AuditEvent | None:
    """PostgreSQL: the whole append (and the changed row's insert or update) as one
    statement (see above). None, with nothing written, when the head row is missing, the
    canonical text cannot be cut or the update changes no row (the caller then takes the
    general path, which tells these apart)."""
    spliced = ["seq", "prev_hash", "occurred_at"] + (["target_id"] if insert else [])
    pieces = _hash_template(fields, spliced)
    if pieces is None:
        return None
    quote = connection.ops.quote_name
    params: list[Any] = []
    if update is not None:
        # The row first, then the head (the order every other writer of that row takes
        # its locks in: its change, then record_event), and only if the head exists: the
        # update must not happen without its event.
        update_sql, params = update.sql(connection)
        sql = (
            f"WITH changed AS ({update_sql} AND EXISTS "  # noqa: S608
            "(SELECT 1 FROM audit_chainhead WHERE id = 1) RETURNING 1 AS changed_row), "
            "head AS (SELECT seq, hash FROM audit_chainhead, changed "
            "WHERE audit_chainhead.id = 1 LIMIT 1 FOR UPDATE OF audit_chainhead)"
        )
    else:
        sql = "WITH head AS (SELECT seq, hash FROM audit_chainhead WHERE id = 1 FOR UPDATE)"
    if insert is not None:
        columns = ", ".join(quote(c) for c in insert.columns)
        marks = ", ".join(["%s"] * len(insert.columns))
        sql += (
            f", changed AS (INSERT INTO {quote(insert.table)} ({columns}) "  # noqa: S608
            f"SELECT {marks} FROM head RETURNING {quote(insert.pk_column)} AS pk)"
        )
        params += insert.params
        target, source = "changed.pk::text", "head, changed"
    else:
        target, source = "%s::text", "head"
        params.append(fields["target_id"])
    # clock_timestamp() is read after the head's lock is taken: times follow the chain.
    sql += (
        ", ev AS (SELECT head.seq + 1 AS seq, head.hash AS prev_hash, "  # noqa: S608
        f"clock_timestamp() AS occurred_at, {target} AS target_id FROM {source})"
    )
    text = []
    for before, name in pieces:
        text.append("%s::text")
        params.append(before)
        if name:
            text.append(f"({_SPLICE_SQL[name]})")
    concat = " || ".join(text)  # fixed SQL; the canonical text goes in as parameters
    sql += (
        f", bodied AS (SELECT ev.*, {concat} AS body FROM ev), "  # noqa: S608
        "hashed AS (SELECT bodied.*, encode(sha256(convert_to(body, 'UTF8')), 'hex') AS hash "
        "FROM bodied)"
    )
    values = []
    for name in _INSERT_COLUMNS:
        if name in _UNDER_LOCK:
            values.append(f"hashed.{name}")
        elif name in _JSON_COLUMNS:
            values.append("%s::json")
            params.append(changes_json if name == "changes" else context_json)
        else:
            values.append("%s")
            params.append(fields[name])
    sql += (
        f", ins AS (INSERT INTO audit_auditevent ({', '.join(_INSERT_COLUMNS)}) "  # noqa: S608
        f"SELECT {', '.join(values)} FROM hashed "
        "RETURNING id, seq, occurred_at, target_id, prev_hash, hash) "
        "UPDATE audit_chainhead SET seq = ins.seq, hash = ins.hash FROM ins "
        "WHERE audit_chainhead.id = 1 RETURNING ins.id, ins.seq, ins.occurred_at, "
        "ins.target_id, ins.prev_hash, ins.hash, set_config('synchronous_commit', 'off', true)"
    )
    # Prepared: the text is the same for every event of a given shape (the canonical text's
    # pieces are parameters), so PostgreSQL plans it once per connection.
    with prepared_cursor(connection) as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    event_pk, seq, occurred_at, target_id, prev_hash, digest, _ = row
    fields.update(seq=seq, occurred_at=occurred_at, target_id=target_id, prev_hash=prev_hash)
    if event_hash(fields) != digest:  # pragma: no cover - a bug in the splicing above
        raise RuntimeError(f"audit event {seq}: the database's hash differs from event_hash")
    event = AuditEvent(id=event_pk, hash=digest, **fields)
    event._state.adding = False
    event._state.db = connection.alias
    return event


def append_event(
    fields: dict[str, Any],
    changes_json: str,
    context_json: str,
    insert: RowInsert | None = None,
    update: RowUpdate | None = None,
) -> AuditEvent | None:
    """Append under the chain head's row lock: no forks, no gaps, even with many writers.

    PostgreSQL: one statement (``_append_one_statement``); it is atomic by itself, so a
    caller outside a transaction needs none. The commit is made durable without holding the
    lock through the log flush (see ``_flush_barrier``). The general path (PostgreSQL when
    the head row is missing, SQLite always): the changed row's ``insert`` if any, the head
    under lock (``SELECT ... FOR UPDATE`` on PostgreSQL, which re-reads the newest head after
    waiting; SQLite serialises writers itself with IMMEDIATE transactions), the event, the
    head. Raw SQL: this runs for every change in Steward. With an ``update`` that changes
    no row, nothing is written and the result is None.
    """
    if insert is not None and update is not None:
        raise ValueError("an event is written with one changed row: an insert or an update")
    connection = transaction.get_connection()
    vendor = connection.vendor
    if vendor == "postgresql":
        event = _append_one_statement(
            connection, fields, changes_json, context_json, insert, update
        )
        if event is not None:
            # Outside a transaction the statement has committed: the barrier runs now.
            _flush_after_commit(connection)
            return event
    columns = ", ".join(_INSERT_COLUMNS)
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        if update is not None:
            cursor.execute(*update.sql(connection))
            if cursor.rowcount == 0:
                return None
        pk = None if insert is None else _insert_row(connection, cursor, insert)
        if vendor == "postgresql":
            _flush_after_commit(connection)
            seq, prev_hash = _lock_head_async_commit(cursor)
        else:
            seq, prev_hash = locked_head()
        if insert is not None:
            fields["target_id"] = str(pk)
        now = timezone.now()
        fields["seq"] = seq + 1
        fields["occurred_at"] = now
        fields["prev_hash"] = prev_hash
        body = canonical_bytes(fields)
        digest = hashlib.sha256(body).hexdigest()
        params = [
            fields["seq"],
            connection.ops.adapt_datetimefield_value(now),
            fields["actor_type"],
            fields["actor_id"],
            fields["actor_label"],
            fields["action"],
            fields["target_type"],
            fields["target_id"],
            fields["target_label"],
            changes_json,
            context_json,
            fields["outcome"],
            prev_hash,
            digest,
            body.decode("utf-8"),
        ]
        if vendor == "postgresql":
            cursor.execute(
                f"WITH ins AS (INSERT INTO audit_auditevent ({columns}) "  # noqa: S608
                f"VALUES ({_placeholders(vendor)}) RETURNING id) "
                "UPDATE audit_chainhead SET seq = %s, hash = %s FROM ins "
                "WHERE audit_chainhead.id = 1 RETURNING ins.id",
                [*params, fields["seq"], digest],
            )
            event_pk = cursor.fetchone()[0]
        else:
            cursor.execute(
                f"INSERT INTO audit_auditevent ({columns}) VALUES ({_placeholders(vendor)})",  # noqa: S608
                params,
            )
            event_pk = cursor.lastrowid
            cursor.execute(
                "UPDATE audit_chainhead SET seq = %s, hash = %s WHERE id = 1",
                [fields["seq"], digest],
            )
    event = AuditEvent(id=event_pk, hash=digest, **fields)
    event._state.adding = False
    event._state.db = connection.alias
    return event
