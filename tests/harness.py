"""Real processes the proof tests (faults, e2e) and the load bench start and break.

Everything here runs a PRIVATE instance on a free loopback port and stops it afterwards: the
machine's shared PostgreSQL (5432) and Redis (6379) are never touched.

- ``free_port()``
- ``GunicornServer``: the app under gunicorn against any database/broker URL.
- ``PrivatePostgres``: ``initdb`` + ``pg_ctl`` in a temporary directory; stop/start/restart it.
- ``PrivateRedis``: ``redis-server`` on a free port; stop/start it (no persistence unless asked).
- ``HttpSession``: a keep-alive stdlib HTTP client with cookies and a form login.
- ``kill_worker_when(worker, predicate)``: SIGKILL a worker as soon as something is true
  (e.g. its job row says ``running``): a crash mid-job.
- ``unwritable_media_root(tmp_path)`` and ``DiskFullStorage``: media storage that cannot be
  written, for "the job fails with a reason; nothing partial is served".
"""

from __future__ import annotations

import errno
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path(os.environ.get("STEWARD_PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 30.0, proc: subprocess.Popen[Any] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def base_env(**extra: str) -> dict[str, str]:
    """The environment of a server process: test settings, no DEBUG, no TLS, quiet logs."""
    env = {**os.environ}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.test_settings",
            "DEBUG": "0",
            "USE_TLS": "0",
            "LOG_JSON": "0",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        }
    )
    env.update(extra)
    return env


def manage(*args: str, env: dict[str, str], timeout: float = 300) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


class GunicornServer:
    """``gunicorn config.wsgi`` on a free loopback port, in its own process group."""

    def __init__(
        self,
        env: dict[str, str],
        log_path: Path,
        *,
        workers: int = 2,
        threads: int = 4,
        timeout: int = 30,
    ) -> None:
        self.env = env
        self.log_path = log_path
        self.workers = workers
        self.threads = threads
        self.timeout = timeout
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> GunicornServer:
        self._log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--threads",
                str(self.threads),
                "--timeout",
                str(self.timeout),
                "--graceful-timeout",
                "5",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_port(self.port, timeout=60, proc=self.proc)
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\n{self.log()}") from exc
        return self

    def worker_pids(self) -> set[int]:
        """The gunicorn worker processes (children of the arbiter)."""
        assert self.proc is not None
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return {int(pid) for pid in children.read_text().split()} if children.exists() else set()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if self._log:
            self._log.close()

    def __enter__(self) -> GunicornServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _as_postgres_user() -> list[str]:
    """initdb refuses to run as root: run the server tools as the ``postgres`` OS user."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        raise RuntimeError("running as root needs runuser to start a private PostgreSQL")
    return [runuser, "-u", "postgres", "--"]


def postgres_available() -> bool:
    return (PG_BIN / "initdb").exists() and (PG_BIN / "pg_ctl").exists()


class PrivatePostgres:
    """A throw-away PostgreSQL cluster: trust auth, loopback only, a free port."""

    def __init__(self, name: str = "steward_fault") -> None:
        self.name = name
        self.port = free_port()
        # Not under pytest's tmp_path: that is root-only, and the server runs as postgres.
        self.dir = Path(tempfile.mkdtemp(prefix="steward-pg-"))
        self.data = self.dir / "data"
        self.logfile = self.dir / "server.log"
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")

    def url(self, database: str | None = None) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database or self.name}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*_as_postgres_user(), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=check,
            cwd=self.dir,
        )

    def init(self) -> PrivatePostgres:
        self._run(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.data),
            "--auth=trust",
            "--username=postgres",
            "--no-sync",
            "--encoding=UTF8",
        )
        return self

    def start(self) -> PrivatePostgres:
        opts = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60"
        )
        self._run(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.logfile),
            "-o",
            opts,
            "-w",
            "start",
        )
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop", check=False
        )

    def restart(self, down_for: float = 0.0) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()

    def create_database(self, name: str | None = None) -> str:
        import psycopg

        name = name or self.name
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PrivatePostgres:
        try:
            return self.init().start()
        except Exception:
            self.destroy()
            raise

    def __exit__(self, *exc: object) -> None:
        self.destroy()


class PrivateRedis:
    """``redis-server`` on a free loopback port; ``stop()``/``start()`` on the same port.

    With ``persistent=True`` it keeps an append-only file, so queued messages survive a
    restart (as a production Redis would); without it a restart loses everything.
    """

    def __init__(self, tmp_dir: Path, *, persistent: bool = False) -> None:
        self.port = free_port()
        self.dir = tmp_dir
        self.persistent = persistent
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> PrivateRedis:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        self.dir.mkdir(parents=True, exist_ok=True)
        args = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir)]
        args += ["--save", ""]
        args += ["--appendonly", "yes" if self.persistent else "no"]
        self.proc = subprocess.Popen(
            args,
            stdout=(self.dir / "redis.log").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_port(self.port, timeout=20, proc=self.proc)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def __enter__(self) -> PrivateRedis:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@dataclass
class HttpResult:
    status: int  # 0: no HTTP answer at all (refused, reset, timed out)
    headers: dict[str, str]
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)


class HttpSession:
    """A keep-alive HTTP/1.1 client on the standard library, with a cookie jar.

    One per thread. Loopback only; reconnects after the server closes the connection.
    """

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        parsed = urlsplit(base_url)
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 80
        self.timeout = timeout
        self.cookies: dict[str, str] = {}
        self._conn: http.client.HTTPConnection | None = None

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> HttpResult:
        send = {"Host": f"{self.host}:{self.port}", **(headers or {})}
        if self.cookies:
            send["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.perf_counter()
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self._conn.request(method, path, body=body, headers=send)
                response = self._conn.getresponse()
                data = response.read()
            except (http.client.HTTPException, OSError):
                self.close()
                # A kept-alive connection the server has closed: retry once on a fresh one.
                if attempt == 2:
                    return HttpResult(0, {}, b"", time.perf_counter() - started)
                continue
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    cookie = value.split(";", 1)[0]
                    key, _, val = cookie.partition("=")
                    self.cookies[key.strip()] = val.strip()
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            return HttpResult(
                response.status,
                {k.lower(): v for k, v in response.getheaders()},
                data,
                time.perf_counter() - started,
            )
        raise AssertionError("unreachable")

    def get(self, path: str, headers: dict[str, str] | None = None) -> HttpResult:
        return self.request("GET", path, headers=headers)

    def post_form(self, path: str, fields: dict[str, str]) -> HttpResult:
        return self.request(
            "POST",
            path,
            body=urlencode(fields).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"http://{self.host}:{self.port}{path}",
            },
        )

    def login(self, username: str, password: str) -> None:
        """Sign in through the login form (CSRF cookie and all), as a browser does."""
        page = self.get("/login/")
        assert page.status == 200, page.status
        result = self.post_form(
            "/login/",
            {
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": self.cookies["csrftoken"],
            },
        )
        assert result.status == 302 and "sessionid" in self.cookies, (
            result.status,
            result.body[:300],
        )

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def kill_worker_when(
    worker: Any, predicate: Callable[[], object], timeout: float = 60.0, interval: float = 0.02
) -> None:
    """SIGKILL ``worker`` (tests.conftest.WorkerProcess) the moment ``predicate()`` is true.

    Polls tightly, so a job seen ``running`` is killed mid-flight, as a crash or an OOM kill
    would do it; the broker then redelivers the unacknowledged task (acks_late).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            worker.kill()
            return
        time.sleep(interval)
    raise AssertionError(f"never saw the moment to kill the worker within {timeout}s")


def unwritable_media_root(tmp_path: Path) -> Path:
    """A MEDIA_ROOT nothing can write to, not even root: one of its parents is a regular file.

    (chmod does not stop root, and mounting a full or read-only filesystem needs privileges
    this machine does not grant.) Pass it to a process with ``MEDIA_ROOT=...`` or to a test
    with ``settings.MEDIA_ROOT = str(...)``; every save fails with ENOTDIR.
    """
    blocker = tmp_path / "media-is-a-file"
    blocker.write_bytes(b"")
    return blocker / "media"


class DiskFullStorage:
    """A storage backend whose writes fail like a full disk, after a partial first chunk.

    Why not a real full disk: creating a small filesystem needs mount privileges. The
    failure itself is real: the second chunk is written to /dev/full, so the OSError is the
    kernel's ENOSPC. The partial file is left on disk, exactly as a full disk leaves it, so a
    test can check that nothing partial is ever served.

    Use: ``settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND":
    "tests.harness.DiskFullStorage"}}`` (or ``STEWARD_TEST_DEFAULT_STORAGE`` for processes).
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        from django.core.files.storage import FileSystemStorage

        class _DiskFull(FileSystemStorage):
            def _save(self, name: str, content: Any) -> str:
                path = Path(self.path(name))
                path.parent.mkdir(parents=True, exist_ok=True)
                chunks = content.chunks()
                with path.open("wb") as partial:
                    partial.write(next(iter(chunks), b"")[:4096])
                with open("/dev/full", "wb", buffering=0) as full:
                    full.write(b"\0" * 4096)  # raises OSError(ENOSPC)
                raise OSError(errno.ENOSPC, "No space left on device", str(path))

        return _DiskFull(*args, **kwargs)


@contextmanager
def stopped(service: PrivateRedis | PrivatePostgres, down_for: float = 0.0) -> Iterator[None]:
    """Stop a private service for the body of the ``with``, then start it again."""
    service.stop()
    try:
        yield
        time.sleep(down_for)
    finally:
        service.start()
