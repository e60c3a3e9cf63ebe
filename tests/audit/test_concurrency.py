"""Concurrent writers on PostgreSQL: one gapless chain without forks."""

from __future__ import annotations

import itertools

import pytest
from django.db import connection, transaction

from audit.chain import GENESIS_HASH
from audit.models import AuditEvent
from audit.services import record_event
from audit.verification import verify_chain
from tests.audit.conftest import requires_postgres, run_writers

pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]

WRITERS = 4
EACH = 40


def test_concurrent_writers_make_a_gapless_fork_free_chain():
    def write(writer: int) -> None:
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

    run_writers(WRITERS, write)

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


def test_an_append_releases_the_head_before_the_log_flush_yet_is_durable_on_return():
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        with transaction.atomic():
            record_event(actor="durable", action="test.durable")
            record_event(actor="durable", action="test.durable")
            with connection.cursor() as cursor:
                # The commit does not wait for the disk while holding the chain head...
                cursor.execute("SHOW synchronous_commit")
                assert cursor.fetchone()[0] == "off"
                cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
                before_commit = cursor.fetchone()[0]
        with connection.cursor() as cursor:
            # ...but the log is flushed past the commit before the caller goes on.
            cursor.execute("SELECT pg_current_wal_flush_lsn() > %s::pg_lsn", [before_commit])
            assert cursor.fetchone()[0] is True
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"
    barriers = [q for q in ctx.captured_queries if "steward_audit_flush()" in q["sql"]]
    assert len(barriers) == 1  # one flush per transaction, however many events
    assert AuditEvent.objects.filter(action="test.durable").count() == 2


def test_outside_a_transaction_the_links_are_walked_beside_the_hash_scan():
    """Verification outside a transaction checks links on a second connection while the hash
    scan runs: both kinds of break are still found, the lowest first."""
    from tests.audit.conftest import tamper_sql

    for i in range(6):
        record_event(actor="beside", action="test.beside", changes={"i": i})
    assert not connection.in_atomic_block
    assert verify_chain(use_published=False).ok
    tamper_sql("UPDATE audit_auditevent SET prev_hash = %s, body = NULL WHERE seq = 5", ["f" * 64])
    report = verify_chain(use_published=False)
    assert (report.ok, report.broken_seq, report.problem) == (False, 5, "link_mismatch")
    tamper_sql("UPDATE audit_auditevent SET target_label = 'forged', body = NULL WHERE seq = 3")
    report = verify_chain(use_published=False)
    assert (report.ok, report.broken_seq, report.problem) == (False, 3, "hash_mismatch")
