"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import ApiToken, User
from accounts.roles import ADMIN, APPROVER, AUDITOR, MODEL_OWNER, VIEWER
from accounts.services import token_create
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _isolated_media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    def make(username: str | None = None, roles: list[str] | None = None, **kwargs: Any) -> User:
        if username:
            kwargs["username"] = username
        return UserFactory(roles=roles or [], **kwargs)

    return make


@pytest.fixture
def admin_user(make_user: Callable[..., User]) -> User:
    return make_user("admin-user", [ADMIN])


@pytest.fixture
def approver(make_user: Callable[..., User]) -> User:
    return make_user("approver", [APPROVER])


@pytest.fixture
def second_approver(make_user: Callable[..., User]) -> User:
    return make_user("approver2", [APPROVER])


@pytest.fixture
def owner(make_user: Callable[..., User]) -> User:
    return make_user("owner", [MODEL_OWNER])


@pytest.fixture
def auditor(make_user: Callable[..., User]) -> User:
    return make_user("auditor", [AUDITOR])


@pytest.fixture
def viewer(make_user: Callable[..., User]) -> User:
    return make_user("viewer", [VIEWER])


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def token_for(db: None) -> Callable[..., tuple[ApiToken, str]]:
    """``token_for(user, "registry:read", ...)`` → (token, secret)."""

    def make(
        user: User, *scopes: str, name: str | None = None, **kwargs: Any
    ) -> tuple[ApiToken, str]:
        return token_create(
            actor=user,
            owner=user,
            name=name or f"test-{'-'.join(scopes) or 'none'}-{ApiToken.objects.count()}",
            scopes=list(scopes),
            **kwargs,
        )

    return make


@pytest.fixture
def bearer(token_for: Callable[..., tuple[ApiToken, str]]) -> Callable[..., APIClient]:
    """``bearer(user, "registry:read")`` → an APIClient sending that user's new token."""

    def make(user: User, *scopes: str) -> APIClient:
        _, secret = token_for(user, *scopes)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        return client

    return make


def _database_url() -> str:
    """A URL for the test database, for processes started by the tests."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{db['NAME']}"


def process_env(**extra: str) -> dict[str, str]:
    env = {**os.environ}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.test_settings",
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


class WorkerProcess:
    """A real ``celery worker`` process on the test database and broker."""

    def __init__(self, log_path: Path, concurrency: int = 1, pool: str = "prefork") -> None:
        self.log_path = log_path
        self.concurrency = concurrency
        self.pool = pool
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--loglevel",
                "INFO",
                "--pool",
                self.pool,
                "--concurrency",
                str(self.concurrency),
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"test-{os.getpid()}-{time.monotonic_ns()}@%h",
            ],
            cwd=ROOT,
            env=process_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if b"ready." in self.log_path.read_bytes():
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log()}")
            time.sleep(0.2)
        raise RuntimeError(f"worker did not become ready:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and its children), as a crash would."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def app_broker(url: str) -> Iterator[None]:
    """Point this process's Celery app at another broker for the test, and back.

    The app's connection and producer pools live in kombu's process-wide registry, keyed by
    broker: ``kombu.pools.reset()`` closes and forgets them all on the way in and out, so no
    later test meets a closed pool ("Acquire on closed pool")."""
    from kombu import pools

    from config.celery import app

    def forget_pools() -> None:
        pools.reset()
        app._pool = None
        app.amqp._producer_pool = None

    saved = (app.conf.broker_url, app.conf.broker_transport_options)
    saved_env = os.environ.get("CELERY_BROKER_URL")
    # Celery prefers CELERY_BROKER_URL from the environment over its configuration.
    os.environ["CELERY_BROKER_URL"] = url
    forget_pools()
    app.conf.broker_url = url
    app.conf.broker_transport_options = {"visibility_timeout": 3600, "max_retries": 1}
    try:
        yield
    finally:
        app.conf.broker_url, app.conf.broker_transport_options = saved
        if saved_env is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = saved_env
        forget_pools()


def purge_broker() -> None:
    from config.celery import app

    with app.connection_for_write() as conn:
        app.control.purge(connection=conn)
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        for path in Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]).glob("*"):
            path.unlink(missing_ok=True)


@pytest.fixture
def celery_worker_process(transactional_db: None, tmp_path: Path) -> Iterator[WorkerProcess]:
    """Start a real worker for one test; the test's data must be committed (transactional_db)."""
    purge_broker()
    worker = WorkerProcess(tmp_path / "worker.log").start()
    try:
        yield worker
    finally:
        worker.stop()


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


@pytest.fixture(autouse=True, scope="session")
def _flushable_audit_trail() -> Iterator[None]:
    """The audit tables refuse DELETE/TRUNCATE (database triggers); transactional tests end
    with a flush, which may empty them inside a maintenance window (see audit/db.py)."""
    from audit.db import flushable_audit_tables

    with flushable_audit_tables():
        yield
