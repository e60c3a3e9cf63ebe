"""A per-process cache of the rows a policy check reads, kept exact by a database-side token.

A check reads the same few rows again and again: the model version with its model, licence,
approval, risk and evals, the region, the use case, the active policy versions and the
approved waivers. They change rarely, but when they change the very next check must see it,
in every process (gunicorn workers, Celery workers, the CLI's server).

Every write to a watched table (``WATCHED_TABLES``) changes a random token in the
``steward_facts_generation`` table, from a trigger, in the writer's own transaction. A check
reads the token first (one small query), then serves rows from the cache filled under that
same token, loading what is missing. So:

- a change becomes visible to the cache exactly when it commits (the token commits with it);
- rows are always loaded *after* the token was read, so they are never older than the token;
- tokens are random, never counters: a rolled-back transaction's token never comes back, so
  nothing cached inside it can be served later (tests roll back after every test).

Time-dependent facts (approval expiry, waiver expiry, "the latest usable version") are
computed at each check from the cached rows and ``now``; nothing time-dependent is cached.

The triggers are (re)installed after every ``migrate`` (``install``, wired in
``policy.apps``): SQLite drops a table's triggers when a migration rebuilds the table, and
``tests/policy/test_fact_cache.py`` checks they are all present. PostgreSQL writers never wait
for each other on the token: each transaction takes a free slot row (``SKIP LOCKED``) of
``PG_SLOTS``, and the token is the tuple of every slot.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from django.db import connections

if TYPE_CHECKING:
    from policy.evaluation import CompiledPolicy
    from policy.models import Region, UseCase
    from registry.models import ModelVersion

TABLE = "steward_facts_generation"
PG_SLOTS = 32
WATCHED_TABLES = (
    "registry_aimodel",
    "registry_modelversion",
    "registry_license",
    "registry_approval",
    "registry_riskassessment",
    "registry_evalresult",
    "policy_region",
    "policy_usecase",
    "policy_policy",
    "policy_policyversion",
    "policy_rule",
    "policy_waiver",
)
MAX_ENTRIES = 2048

PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION steward_facts_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    slot integer;
BEGIN
    -- A slot no other transaction holds (this one's own slot is never skipped), so writers
    -- to the watched tables never queue behind each other on the token.
    SELECT id INTO slot FROM {TABLE} ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED;
    IF slot IS NULL THEN
        slot := 1;
    END IF;
    UPDATE {TABLE} SET token = floor(random() * 9.2e18)::bigint WHERE id = slot;
    RETURN NULL;
END;
$$;
"""  # noqa: S608 - fixed names


def _trigger_name(table: str, suffix: str) -> str:
    return f"{table}_facts_{suffix}"


def install_sql(vendor: str, tables: Sequence[str]) -> list[str]:
    """Idempotent: the token table, and a trigger on each of ``tables``."""
    if vendor == "postgresql":
        sql = [
            f"CREATE TABLE IF NOT EXISTS {TABLE} (id integer PRIMARY KEY, token bigint NOT NULL)",
            f"INSERT INTO {TABLE} (id, token) SELECT slot, 0 "  # noqa: S608 - fixed names
            f"FROM generate_series(1, {PG_SLOTS}) AS slot ON CONFLICT (id) DO NOTHING",
            PG_FUNCTION,
        ]
        for table in tables:
            sql.append(
                f"CREATE OR REPLACE TRIGGER {_trigger_name(table, 'changed')} "
                f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION steward_facts_changed()"
            )
        return sql
    sql = [
        f"CREATE TABLE IF NOT EXISTS {TABLE} (id INTEGER PRIMARY KEY, token BIGINT NOT NULL)",
        f"INSERT OR IGNORE INTO {TABLE} (id, token) VALUES (1, random())",  # noqa: S608
    ]
    for table in tables:
        for op in ("INSERT", "UPDATE", "DELETE"):
            sql.append(
                f"CREATE TRIGGER IF NOT EXISTS {_trigger_name(table, op.lower())} "  # noqa: S608
                f"AFTER {op} ON {table} BEGIN "
                f"UPDATE {TABLE} SET token = random() WHERE id = 1; END"
            )
    return sql


def expected_triggers(vendor: str) -> set[str]:
    if vendor == "postgresql":
        return {_trigger_name(t, "changed") for t in WATCHED_TABLES}
    return {_trigger_name(t, op) for t in WATCHED_TABLES for op in ("insert", "update", "delete")}


def install(using: str = "default") -> None:
    """Create the token table and the triggers on every watched table that exists."""
    connection = connections[using]
    existing = set(connection.introspection.table_names())
    tables = [t for t in WATCHED_TABLES if t in existing]
    with connection.cursor() as cursor:
        for statement in install_sql(connection.vendor, tables):
            cursor.execute(statement)
    facts_cache.clear()


def read_token(using: str = "default") -> tuple[int, ...]:
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT token FROM {TABLE} ORDER BY id")  # noqa: S608 - fixed name
        return tuple(row[0] for row in cursor.fetchall())


def token_subquery_sql(vendor: str) -> str:
    """The token as one text value (``parse_token`` reads it), for a sub-select in a query the
    request makes anyway (the API token's lookup: see ``CheckView``), saving a round trip."""
    if vendor == "postgresql":
        return f"(SELECT string_agg(token::text, ',' ORDER BY id) FROM {TABLE})"  # noqa: S608
    return f"(SELECT group_concat(token, ',') FROM (SELECT token FROM {TABLE} ORDER BY id))"  # noqa: S608


def parse_token(value: str | None) -> tuple[int, ...] | None:
    """The token read by ``token_subquery_sql`` (None when it was not read)."""
    if value is None:
        return None
    return tuple(int(part) for part in str(value).split(","))


@dataclass(frozen=True)
class CachedWaiver:
    policy_slug: str
    rule_id: str
    model_version_id: int | None
    deployment_id: int | None
    expires_at: datetime


@dataclass
class Generation:
    """What was loaded under one token. Filled lazily; never changed once a key is set."""

    token: tuple[int, ...]
    versions: dict[str, list[ModelVersion]] = field(default_factory=dict)
    regions: dict[str, Region] = field(default_factory=dict)
    use_cases: dict[str, UseCase] = field(default_factory=dict)
    policies: list[CompiledPolicy] | None = None
    waivers: list[CachedWaiver] | None = None
    waivers_since: datetime | None = None

    def entries(self) -> int:
        return len(self.versions) + len(self.regions) + len(self.use_cases)


_T = TypeVar("_T")


class FactsCache:
    """The current ``Generation`` of this process (one per database alias)."""

    def __init__(self) -> None:
        self._current: dict[str, Generation] = {}
        self._lock = threading.Lock()

    def current(self, using: str = "default", token: tuple[int, ...] | None = None) -> Generation:
        """Reads the token (one query) and returns the generation filled under it. A caller
        that read the token already (``token_subquery_sql``), before loading any row, in this
        request, passes it.

        A thread that read an older token keeps its own (older) generation object: what it
        loads never lands in the newer one."""
        if token is None:
            token = read_token(using)
        generation = self._current.get(using)
        if generation is None or generation.token != token:
            with self._lock:
                generation = self._current.get(using)
                if generation is None or generation.token != token:
                    generation = Generation(token)
                    self._current[using] = generation
        return generation

    def clear(self) -> None:
        with self._lock:
            self._current.clear()


facts_cache = FactsCache()


def cached(store: dict[str, _T], key: str, load: Callable[[], _T | None]) -> _T | None:
    """``store[key]``, loading it on a miss (misses that find nothing are not cached)."""
    hit = store.get(key)
    if hit is None:
        hit = load()
        if hit is not None:
            if len(store) >= MAX_ENTRIES:
                store.clear()
            store[key] = hit
    return hit


def latest_first_key(version: ModelVersion, now: datetime) -> tuple[Any, ...]:
    """Sort key (descending) for "the latest usable version, else the latest": usable ones
    first, then by release date (undated last), creation time and id."""
    return (
        version.is_usable(now),
        version.release_date is not None,
        version.release_date or date.min,
        version.created_at,
        version.pk,
    )
