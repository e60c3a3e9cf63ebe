"""Fixtures for fault tests: private services that a test may stop, break and restart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import PrivatePostgres, PrivateRedis, postgres_available


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    """A PostgreSQL cluster of the test's own on a free port (never the shared 5432)."""
    if not postgres_available():
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    with PrivatePostgres() as pg:
        yield pg


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A Redis of the test's own on a free port, persistent so a restart keeps the queue."""
    with PrivateRedis(tmp_path / "redis", persistent=True) as redis:
        yield redis
