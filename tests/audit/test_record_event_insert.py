"""``record_event(insert=...)``: the changed row's insert travels with the chain head lock."""

from __future__ import annotations

import itertools

import pytest
from django.db import connection, transaction

from accounts.models import Team
from audit.chain import GENESIS_HASH, iter_db_events, verify_events
from audit.models import AuditEvent
from audit.services import RowInsert, record_event

pytestmark = pytest.mark.django_db


def _team_insert(slug: str) -> RowInsert:
    sql = "INSERT INTO accounts_team (slug, name) VALUES (%s, %s)"
    if connection.features.can_return_columns_from_insert:
        sql += " RETURNING id"
    return RowInsert(sql, [slug, f"Team {slug}"])


def _drop_head() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_chainhead")


@pytest.mark.parametrize("head_missing", [False, True])
def test_the_inserted_row_is_the_event_target_and_the_chain_stays_linear(head_missing):
    record_event(actor="test", action="test.before")
    if head_missing:
        _drop_head()  # the head is rebuilt from the last event, as without an insert
    events = []
    for i in range(3):
        with transaction.atomic():
            events.append(
                record_event(
                    actor="test",
                    action="team.created",
                    target=("accounts.team", None, f"team-{i}"),
                    insert=_team_insert(f"team-{i}"),
                )
            )
    for i, event in enumerate(events):
        team = Team.objects.get(slug=f"team-{i}")
        assert event.target_id == str(team.pk)
        stored = AuditEvent.objects.get(pk=event.pk)
        assert stored.target_id == str(team.pk) and stored.hash == event.hash
    chain = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in chain] == list(range(1, 5))
    assert chain[0].prev_hash == GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(chain))
    assert verify_events(iter_db_events(), expected_prev_hash=GENESIS_HASH).ok


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
