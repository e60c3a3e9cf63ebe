"""The fault harness itself: each helper really produces the fault it promises."""

from __future__ import annotations

import errno
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages

from tests.harness import DiskFullStorage, kill_worker_when, stopped, unwritable_media_root

pytestmark = pytest.mark.faults


def _redis(port: int, *command: str) -> bytes:
    """A raw RESP round trip (no client library needed for a ping or a list push)."""
    parts = [f"*{len(command)}\r\n".encode()]
    for arg in command:
        parts.append(f"${len(arg)}\r\n{arg}\r\n".encode())
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"".join(parts))
        return sock.recv(1024)


def test_private_redis_goes_down_and_comes_back_with_its_queue(private_redis: Any) -> None:
    assert _redis(private_redis.port, "RPUSH", "celery", "job-1") == b":1\r\n"
    with stopped(private_redis), pytest.raises(OSError):
        _redis(private_redis.port, "PING")
    assert _redis(private_redis.port, "LLEN", "celery") == b":1\r\n"


def test_unwritable_media_root_refuses_writes_even_for_root(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = str(unwritable_media_root(tmp_path))
    with pytest.raises(OSError) as failure:
        default_storage.save("signed/out.jpg", ContentFile(b"x" * 10))
    assert failure.value.errno in (errno.ENOTDIR, errno.EEXIST)


def test_disk_full_storage_fails_with_enospc_after_a_partial_write(
    settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "tests.harness.DiskFullStorage"},
    }
    storage = storages["default"]
    assert type(storage).__name__ == "_DiskFull"
    with pytest.raises(OSError) as failure:
        storage.save("signed/out.jpg", ContentFile(b"y" * 10_000))
    assert failure.value.errno == errno.ENOSPC
    partial = tmp_path / "media" / "signed" / "out.jpg"
    assert 0 < partial.stat().st_size < 10_000
    assert DiskFullStorage is not None


def test_kill_worker_when_kills_the_moment_the_condition_holds(tmp_path: Path) -> None:
    class Sleeper:
        """Anything with kill(), as tests.conftest.WorkerProcess has."""

        def __init__(self) -> None:
            self.proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])

        def kill(self) -> None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    sleeper = Sleeper()
    flag = tmp_path / "job-running"
    started = time.monotonic()
    subprocess.Popen(
        [sys.executable, "-c", f"import time; time.sleep(0.5); open({str(flag)!r}, 'w')"]
    )
    kill_worker_when(sleeper, flag.exists, timeout=20)
    assert sleeper.proc.returncode is not None
    assert time.monotonic() - started < 10
