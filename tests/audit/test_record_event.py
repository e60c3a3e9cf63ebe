from __future__ import annotations

import itertools

import pytest

from audit.chain import GENESIS_HASH, iter_db_events, verify_events
from audit.context import audit_context
from audit.models import AuditEvent
from audit.services import record_event

pytestmark = pytest.mark.django_db


def test_events_form_a_gapless_hash_chain(viewer):
    for i in range(5):
        record_event(actor=viewer, action="test.step", target=("test.thing", i, f"thing {i}"))
    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in events] == list(range(1, 6))
    assert events[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
    assert verify_events(iter_db_events(), expected_prev_hash=GENESIS_HASH).ok


def test_the_event_names_actor_target_and_context(viewer):
    with audit_context(channel="web", ip="10.0.0.7", request_id="req-12345678"):
        event = record_event(
            actor=viewer,
            action="thing.changed",
            target=viewer,
            changes={"name": {"before": "a", "after": "b"}},
        )
    assert (event.actor_type, event.actor_label) == ("user", viewer.username)
    assert (event.target_type, event.target_id) == ("accounts.user", str(viewer.pk))
    assert event.context == {"channel": "web", "ip": "10.0.0.7", "request_id": "req-12345678"}


def test_an_event_rolls_back_with_its_transaction(viewer):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        record_event(actor=viewer, action="test.doomed")
        raise RuntimeError("the change failed")
    assert not AuditEvent.objects.filter(action="test.doomed").exists()
    event = record_event(actor=viewer, action="test.after")
    assert event.seq == 1


def test_a_changed_event_breaks_the_chain_at_its_sequence(viewer):
    for i in range(3):
        record_event(actor=viewer, action="test.step", changes={"i": i})
    rows = list(iter_db_events())
    rows[1]["changes"] = {"i": 99}
    result = verify_events(rows, expected_prev_hash=GENESIS_HASH)
    assert not result.ok
    assert result.broken_seq == 2
    assert "hash mismatch" in result.reason
