"""PostgreSQL goes away under load: requests fail cleanly (503) and recover by themselves.

The outage test runs the app under gunicorn against a PRIVATE PostgreSQL cluster that the
test starts, stops and starts again; the shared server is never touched.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.conf import settings
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from django.test import Client

from tests.harness import GunicornServer, HttpResult, HttpSession, base_env, manage

pytestmark = pytest.mark.faults

PASSWORD = "outage-test-password-42"


class SessionLookupFailsMiddleware:
    """Stands for any middleware that reads the session or the user while the database is
    down (Django's own session and auth middleware do it lazily, third-party ones eagerly).
    The error is psycopg's real connection error, wrapped the way Django's backend wraps it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            # Nothing listens on port 1: a real "connection refused" from libpq.
            psycopg.connect("postgresql://steward@127.0.0.1:1/steward", connect_timeout=2)
        except psycopg.OperationalError as exc:
            raise OperationalError(*exc.args) from exc
        return self.get_response(request)  # pragma: no cover - the connect above always fails


@pytest.fixture
def middleware_that_loses_the_database(settings: Any) -> None:
    middleware = list(settings.MIDDLEWARE)
    middleware.insert(
        middleware.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
        f"{__name__}.SessionLookupFailsMiddleware",
    )
    settings.MIDDLEWARE = middleware


@pytest.mark.django_db
def test_a_lost_connection_in_middleware_is_a_json_503_for_the_api(
    middleware_that_loses_the_database: None,
) -> None:
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/me/")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert response["Retry-After"] == "5"


@pytest.mark.django_db
def test_a_lost_connection_in_middleware_is_an_html_503_for_pages(
    middleware_that_loses_the_database: None,
) -> None:
    client = Client(raise_request_exception=False)
    response = client.get("/")
    assert response.status_code == 503
    assert "Temporarily unavailable" in response.content.decode()


@pytest.mark.django_db
def test_other_errors_in_middleware_stay_500s(settings: Any) -> None:
    """The 503 is for lost connections only: a bug must not hide behind 'try again later'."""
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.BrokenMiddleware"]
    response = Client(raise_request_exception=False).get("/api/v1/me/")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "server_error"


class BrokenMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        raise OperationalError('near "SELEC": syntax error')


@dataclass
class Sample:
    at: float
    kind: str
    result: HttpResult


class Load:
    """A few clients hitting the API (token), a page (session) and /readyz, in a loop."""

    def __init__(self, server: GunicornServer, token: str, session_cookies: dict[str, str]) -> None:
        self.server = server
        self.token = token
        self.session_cookies = session_cookies
        self.samples: list[Sample] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _client(self, kind: str) -> None:
        http = HttpSession(self.server.url, timeout=15)
        if kind == "page":
            http.cookies.update(self.session_cookies)
        while not self._stop.is_set():
            if kind == "api":
                result = http.get("/api/v1/me/", {"Authorization": f"Bearer {self.token}"})
            elif kind == "page":
                result = http.get("/")
            else:
                result = http.get("/readyz")
            with self._lock:
                self.samples.append(Sample(time.monotonic(), kind, result))
            time.sleep(0.02)
        http.close()

    def start(self) -> Load:
        for kind in ("api", "api", "page", "ready"):
            thread = threading.Thread(target=self._client, args=(kind,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def between(self, start: float, end: float) -> list[Sample]:
        with self._lock:
            return [s for s in self.samples if start <= s.at <= end]

    def all_ok_since(self, start: float) -> bool:
        recent = self.between(start, time.monotonic())
        kinds = {s.kind for s in recent if s.result.status == 200}
        return kinds == {"api", "page", "ready"} and all(s.result.status == 200 for s in recent)


def _prepare_database(env: dict[str, str]) -> tuple[str, dict[str, str]]:
    manage("migrate", "--noinput", env=env)
    manage(
        "shell",
        "-c",
        "from accounts.models import User; "
        f"u = User.objects.create_user('outage-admin', password='{PASSWORD}'); "
        "from django.contrib.auth.models import Group; u.groups.add(Group.objects.get(name='admin'))",
        env=env,
    )
    out = manage(
        "create_api_token", "outage-admin", "--name", "load", "--scope", "registry:read", env=env
    )
    match = re.search(r"stw_[A-Za-z0-9_\-]+", out)
    assert match, out
    return match.group(0), {}


@pytest.mark.skipif(
    not settings.IS_POSTGRES,
    reason="the outage is a PostgreSQL server going away; SQLite has no server to stop",
)
def test_postgres_restart_under_load_gives_503s_then_recovers_without_an_app_restart(
    private_postgres: Any, tmp_path: Path
) -> None:
    database_url = private_postgres.create_database()
    env = base_env(
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        MEDIA_ROOT=str(tmp_path / "media"),
        # Persistent connections: the ones open when the server dies must be noticed and
        # replaced (CONN_HEALTH_CHECKS), not reused broken.
        DB_CONN_MAX_AGE="60",
        DB_CONNECT_TIMEOUT="2",
    )
    token, _ = _prepare_database(env)

    with GunicornServer(env, tmp_path / "gunicorn.log", workers=2, threads=4) as server:
        browser = HttpSession(server.url)
        browser.login("outage-admin", PASSWORD)
        pids_before = server.worker_pids()
        load = Load(server, token, browser.cookies).start()
        try:
            time.sleep(1.5)
            baseline_end = time.monotonic()

            private_postgres.stop("fast")
            outage_start = time.monotonic()
            time.sleep(3.0)
            outage_end = time.monotonic()
            private_postgres.start()

            deadline = time.monotonic() + 30
            recovered_at = None
            while time.monotonic() < deadline:
                window = time.monotonic()
                time.sleep(1.0)
                if load.all_ok_since(window):
                    recovered_at = window
                    break
        finally:
            load.stop()
        log = server.log()

        assert recovered_at is not None, f"the app did not recover within 30 s:\n{log[-3000:]}"
        statuses = {s.result.status for s in load.samples}
        assert statuses <= {200, 503}, (statuses, log[-3000:])

        baseline = load.between(0, baseline_end)
        assert baseline and all(s.result.status == 200 for s in baseline)

        outage = [s for s in load.between(outage_start + 0.5, outage_end)]
        assert outage, "no request completed during the outage"
        for kind in ("api", "page", "ready"):
            failed = [s for s in outage if s.kind == kind and s.result.status == 503]
            assert failed, f"no 503 for {kind} during the outage"
        for sample in outage:
            if sample.result.status != 503:
                continue
            if sample.kind in ("api", "ready"):
                body = sample.result.json()
                assert body["error"]["code"] == "service_unavailable", body
            else:
                assert b"Temporarily unavailable" in sample.result.body
                assert sample.result.headers["retry-after"] == "5"

        # Recovery came from reconnecting, not from gunicorn replacing crashed workers.
        assert server.worker_pids() == pids_before
        assert "Internal Server Error" not in log and "Traceback" not in log, log[-3000:]
