"""The database itself refuses to change or remove audit rows."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import site
from django.db import DatabaseError, connection, transaction

from audit.checkpoints import checkpoint_create
from audit.db import PROTECTED_TABLES
from audit.models import AuditEvent, Checkpoint
from tests.audit.conftest import requires_postgres

pytestmark = pytest.mark.django_db


def _refused(sql: str) -> str:
    with pytest.raises(DatabaseError) as info, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    return str(info.value)


def test_an_event_cannot_be_updated(some_events):
    some_events(2)
    assert "append-only" in _refused("UPDATE audit_auditevent SET action = 'x' WHERE seq = 1")
    assert AuditEvent.objects.get(seq=1).action == "test.step"


def test_an_event_cannot_be_deleted(some_events):
    some_events(2)
    assert "append-only" in _refused("DELETE FROM audit_auditevent WHERE seq = 2")
    assert AuditEvent.objects.count() == 2


def test_the_orm_cannot_delete_events_either(some_events):
    some_events(1)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.all().delete()


def test_a_checkpoint_cannot_be_changed_or_deleted(some_events):
    some_events(1)
    checkpoint_create()
    assert "append-only" in _refused("UPDATE audit_checkpoint SET head_hash = 'x'")
    assert "append-only" in _refused("DELETE FROM audit_checkpoint")
    assert Checkpoint.objects.count() == 1


@requires_postgres
def test_truncate_is_refused_on_postgresql(some_events):
    some_events(1)
    for table in PROTECTED_TABLES:
        assert "append-only: TRUNCATE" in _refused(f"TRUNCATE {table} CASCADE")
    assert AuditEvent.objects.count() == 1


@requires_postgres
def test_even_the_maintenance_window_never_allows_updates(some_events):
    some_events(1)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL steward.audit_maintenance = 'on'")
        cursor.execute("UPDATE audit_auditevent SET action = 'x'")


def test_the_triggers_exist_after_all_migrations():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT event_object_table, event_manipulation FROM information_schema.triggers "
                "WHERE event_object_table = ANY(%s)",
                [list(PROTECTED_TABLES)],
            )
            found = {(table, op) for table, op in cursor.fetchall()}
            for table in PROTECTED_TABLES:
                assert {(table, "UPDATE"), (table, "DELETE")} <= found
        else:
            cursor.execute("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")
            names = {name for _, name in cursor.fetchall()}
            for table in PROTECTED_TABLES:
                assert {f"{table}_no_update", f"{table}_no_delete"} <= names


def test_the_admin_is_read_only(rf, admin_user, some_events):
    some_events(1)
    model_admin = site._registry[AuditEvent]
    request = rf.get("/admin/audit/auditevent/")
    request.user = admin_user
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, AuditEvent.objects.first())
    assert not model_admin.has_delete_permission(request, AuditEvent.objects.first())
    assert model_admin.has_view_permission(request)
