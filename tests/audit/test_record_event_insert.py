"""``record_event(insert=...)``: the changed row is written with its audit event (on
PostgreSQL by the same statement, which needs no transaction around it)."""

from __future__ import annotations

import itertools

import pytest
from django.db import connection, transaction

from accounts.models import Team
from audit.chain import GENESIS_HASH, iter_db_events, verify_events
from audit.models import AuditEvent
from audit.services import RowInsert, record_event
from audit.verification import verify_chain
from tests.audit.conftest import drop_chain_head, requires_postgres, run_writers

# Text the canonical form escapes or keeps as UTF-8: quotes, a backslash, U+2028, accents.
ODD_TEXT = ' ünïcode "quoted" \\ \u2028 \x01'


def _team_insert(slug: str) -> RowInsert:
    return RowInsert("accounts_team", ["slug", "name"], [slug, f"Team {slug}"])


def _assert_linear_chain(count: int) -> None:
    chain = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in chain] == list(range(1, count + 1))
    assert chain[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(chain))
    assert all(a.occurred_at <= b.occurred_at for a, b in itertools.pairwise(chain))
    assert verify_events(iter_db_events(), expected_prev_hash=GENESIS_HASH).ok


@pytest.mark.django_db
@pytest.mark.parametrize("head_missing", [False, True])
def test_the_inserted_row_is_the_event_target_and_the_chain_stays_linear(head_missing):
    record_event(actor="test", action="test.before", changes={"float": 0.1, "big": 2**60})
    if head_missing:
        drop_chain_head()  # the head is rebuilt from the last event, as without an insert
    events = []
    for i in range(3):
        with transaction.atomic():
            events.append(
                record_event(
                    actor="test",
                    action="team.created",
                    target=("accounts.team", None, f"team-{i}" + ODD_TEXT),
                    changes={"i": i, "ratio": i / 3, "nested": {"z": [1, None, True]}},
                    insert=_team_insert(f"team-{i}"),
                )
            )
    for i, event in enumerate(events):
        team = Team.objects.get(slug=f"team-{i}")
        assert event.target_id == str(team.pk)
        stored = AuditEvent.objects.get(pk=event.pk)
        assert stored.target_id == str(team.pk) and stored.hash == event.hash
        assert stored.seq == event.seq and stored.occurred_at == event.occurred_at
    _assert_linear_chain(4)


@pytest.mark.django_db
def test_a_rolled_back_event_takes_its_row_with_it():
    with pytest.raises(RuntimeError), transaction.atomic():
        record_event(
            actor="test",
            action="team.created",
            target=("accounts.team", None, "gone"),
            insert=_team_insert("gone"),
        )
        raise RuntimeError("rolled back")
    assert not Team.objects.filter(slug="gone").exists()
    assert not AuditEvent.objects.exists()


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_outside_a_transaction_make_one_gapless_chain():
    """Decisions are written this way on PostgreSQL: no transaction, one statement each."""
    writers, each = 4, 30

    def write(writer: int) -> None:
        for i in range(each):
            assert connection.get_autocommit() and not connection.in_atomic_block
            record_event(
                actor=f"writer-{writer}",
                action="team.created",
                target=("accounts.team", None, f"w{writer}-{i}"),
                insert=_team_insert(f"w{writer}-{i}"),
            )

    run_writers(writers, write)
    _assert_linear_chain(writers * each)
    assert Team.objects.count() == writers * each
    targets = set(AuditEvent.objects.values_list("target_id", flat=True))
    assert targets == {str(pk) for pk in Team.objects.values_list("pk", flat=True)}
    report = verify_chain()
    assert report.ok and report.last_seq == writers * each, report.reason


def _prepared_appends() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement FROM pg_prepared_statements "
            "WHERE statement LIKE 'WITH head AS (SELECT seq, hash FROM audit_chainhead%%'"
        )
        return [row[0] for row in cursor.fetchall()]


@requires_postgres
@pytest.mark.django_db
@pytest.mark.parametrize("enabled", [True, False])
def test_the_append_statement_is_prepared_unless_turned_off(enabled, settings):
    """PostgreSQL plans the append once per connection (DB_PREPARED_STATEMENTS, default on);
    off, nothing is prepared (for poolers that cannot keep them). Events chain either way."""
    raw = connection.connection
    saved = raw.prepare_threshold
    raw.prepare_threshold = saved if enabled else None
    try:
        assert saved is not None  # DB_PREPARED_STATEMENTS is on by default
        for i in range(3):
            record_event(actor="test", action="test.prepared", changes={"i": i, "t": ODD_TEXT})
        with transaction.atomic():  # the insert shape is a statement of its own
            record_event(
                actor="test",
                action="team.created",
                target=("accounts.team", None, "prepared"),
                insert=_team_insert("prepared"),
            )
        prepared = _prepared_appends()
    finally:
        raw.prepare_threshold = saved
    assert len(prepared) == (2 if enabled else 0)
    assert Team.objects.filter(slug="prepared").exists()
    _assert_linear_chain(4)
