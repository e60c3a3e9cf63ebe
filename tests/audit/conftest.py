from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from audit.services import record_event


@pytest.fixture(autouse=True)
def audit_dirs(settings: Any, tmp_path: Path) -> dict[str, Path]:
    """Each test publishes checkpoints and keeps keys and exports in its own folders."""
    dirs = {
        "checkpoints": tmp_path / "checkpoints",
        "exports": tmp_path / "exports",
        "public_keys": tmp_path / "public-keys",
        "dev_key": tmp_path / "keys" / "audit-signing.pem",
    }
    settings.STEWARD_AUDIT_CHECKPOINT_DIR = dirs["checkpoints"]
    settings.STEWARD_AUDIT_EXPORT_DIR = dirs["exports"]
    settings.STEWARD_AUDIT_PUBLIC_KEYS_DIR = dirs["public_keys"]
    settings.STEWARD_AUDIT_DEV_KEY_FILE = dirs["dev_key"]
    settings.STEWARD_AUDIT_SIGNING_KEY = None
    return dirs


@pytest.fixture
def some_events(viewer: Any) -> Callable[[int], list[Any]]:
    def make(n: int = 5, action: str = "test.step") -> list[Any]:
        return [
            record_event(
                actor=viewer,
                action=action,
                target=("test.thing", i, f"thing {i}"),
                changes={"i": {"before": i, "after": i + 1}, "note": "ünïcode ✓"},
            )
            for i in range(n)
        ]

    return make


def tamper_sql(sql: str, params: list[Any] | None = None) -> None:
    """Run ``sql`` on the audit table as its owner with the append-only triggers disabled —
    what a database superuser can do. Rolled back with the test's transaction."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Deferred foreign-key checks pending in the test's transaction block ALTER TABLE.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
            cursor.execute("ALTER TABLE audit_checkpoint DISABLE TRIGGER USER")
            cursor.execute(sql, params or [])
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")
            cursor.execute("ALTER TABLE audit_checkpoint ENABLE TRIGGER USER")
        else:
            from audit.db import install_triggers, sqlite_uninstall_sql

            for statement in sqlite_uninstall_sql():
                cursor.execute(statement)
            cursor.execute(sql, params or [])

            class _Editor:
                def __init__(self) -> None:
                    self.connection = connection

                def execute(self, statement: str) -> None:
                    cursor.execute(statement)

            install_triggers(_Editor())


requires_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL-only behaviour"
)


@pytest.fixture
def make_checkpoint(django_capture_on_commit_callbacks: Any) -> Callable[..., Any]:
    """checkpoint_create, with its after-commit publication run (tests roll back instead)."""
    from audit.checkpoints import checkpoint_create

    def make(**kwargs: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return checkpoint_create(**kwargs)

    return make


def run_writers(count: int, write: Callable[[int], None]) -> None:
    """Run ``write(0)`` ... ``write(count - 1)`` at once, each in a thread with its own
    database connection; fail with the errors any of them raised."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(writer: int) -> None:
        try:
            barrier.wait()
            write(writer)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors


def drop_chain_head() -> None:
    """Lose the chain head's row: the next append rebuilds it from the last event."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_chainhead")
