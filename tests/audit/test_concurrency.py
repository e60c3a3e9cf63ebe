"""Concurrent writers on PostgreSQL: one gapless chain without forks."""

from __future__ import annotations

import itertools
import threading

import pytest
from django.db import connection, transaction

from audit.chain import GENESIS_HASH
from audit.models import AuditEvent
from audit.services import record_event
from audit.verification import verify_chain
from tests.audit.conftest import requires_postgres

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

WRITERS = 4
EACH = 40


def test_concurrent_writers_make_a_gapless_fork_free_chain():
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            barrier.wait()
            for i in range(EACH):
                # Some events roll back with their transaction: no gap may remain.
                try:
                    with transaction.atomic():
                        record_event(
                            actor=f"writer-{writer}", action="test.concurrent", changes={"i": i}
                        )
                        if i % 10 == 9:
                            raise RuntimeError("rolled back")
                except RuntimeError:
                    pass
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors

    events = list(
        AuditEvent.objects.order_by("seq").values("seq", "prev_hash", "hash", "actor_label")
    )
    kept = WRITERS * (EACH - EACH // 10)
    assert [e["seq"] for e in events] == list(range(1, kept + 1))
    assert events[0]["prev_hash"] == GENESIS_HASH
    assert all(b["prev_hash"] == a["hash"] for a, b in itertools.pairwise(events))
    assert len({e["prev_hash"] for e in events}) == kept, "two events share a parent: a fork"
    assert len({e["actor_label"] for e in events}) == WRITERS
    report = verify_chain()
    assert report.ok and report.last_seq == kept, report.reason
