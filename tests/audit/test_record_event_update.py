"""``record_event(update=...)``: the changed row is updated with its audit event (on
PostgreSQL by the same statement), and nothing at all is written when the update's
conditions match no row."""

from __future__ import annotations

import pytest
from django.db import transaction

from accounts.models import Team
from audit.chain import GENESIS_HASH, iter_db_events, verify_events
from audit.models import AuditEvent
from audit.services import RowUpdate, record_event
from tests.audit.conftest import drop_chain_head


def _rename(team: Team, name: str, *, expected_name: str) -> RowUpdate:
    return RowUpdate(
        "accounts_team", ["name"], [name], where=[("id", team.pk), ("name", expected_name)]
    )


@pytest.mark.django_db
@pytest.mark.parametrize("head_missing", [False, True])
def test_the_row_is_updated_with_its_event(head_missing):
    team = Team.objects.create(slug="red", name="Red")
    record_event(actor="test", action="test.before")
    if head_missing:
        drop_chain_head()  # the head is rebuilt from the last event, as without an update
    event = record_event(
        actor="test",
        action="team.renamed",
        target=team,
        changes={"name": "Crimson ✓"},
        update=_rename(team, "Crimson ✓", expected_name="Red"),
    )
    assert event is not None
    team.refresh_from_db()
    assert team.name == "Crimson ✓"
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.seq == 2 and stored.hash == event.hash and stored.target_id == str(team.pk)
    assert verify_events(iter_db_events(), expected_prev_hash=GENESIS_HASH).ok


@pytest.mark.django_db
@pytest.mark.parametrize("head_missing", [False, True])
def test_an_update_that_matches_no_row_writes_nothing(head_missing):
    team = Team.objects.create(slug="red", name="Red")
    record_event(actor="test", action="test.before")
    if head_missing:
        drop_chain_head()
    event = record_event(
        actor="test",
        action="team.renamed",
        target=team,
        update=_rename(team, "Crimson", expected_name="Blue"),  # a lost race, say
    )
    assert event is None
    team.refresh_from_db()
    assert team.name == "Red"
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["test.before"]


@pytest.mark.django_db
def test_a_rolled_back_event_takes_its_update_with_it():
    team = Team.objects.create(slug="red", name="Red")
    with pytest.raises(RuntimeError), transaction.atomic():
        record_event(
            actor="test",
            action="team.renamed",
            target=team,
            update=_rename(team, "Crimson", expected_name="Red"),
        )
        raise RuntimeError("rolled back")
    team.refresh_from_db()
    assert team.name == "Red"
    assert not AuditEvent.objects.exists()


def test_an_event_has_one_changed_row():
    from audit.services import RowInsert

    with pytest.raises(ValueError):
        record_event(
            actor="test",
            action="team.renamed",
            insert=RowInsert("accounts_team", ["slug"], ["x"]),
            update=RowUpdate("accounts_team", ["name"], ["x"], where=[("id", 1)]),
        )  # type: ignore[call-overload]
