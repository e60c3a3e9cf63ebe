"""The signed output: hashed while written, linked or moved into the storage, never left
behind."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest
from django.core.files.storage import default_storage

from provenance.models import JobStatus
from provenance.services.output import (
    SignedOutput,
    partial_dir,
    remove_stale_partials,
    store_manifest,
    store_output,
)
from tests.provenance.conftest import upload
from tests.provenance.samples import SAMPLES

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def _partials() -> list[Path]:
    directory = partial_dir()
    return sorted(directory.glob("*")) if directory and directory.is_dir() else []


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_every_format_stores_the_output_whose_hash_it_records(kind, sign_now):
    job = sign_now(upload(kind), watermark=False)
    assert job.status == JobStatus.SUCCEEDED, job.error
    with job.output_file.open("rb") as handle:
        data = handle.read()
    assert hashlib.sha256(data).hexdigest() == job.output_sha256
    assert len(data) == job.output_size
    assert _partials() == []


def test_the_storage_takes_the_file_over_without_a_copy():
    output = SignedOutput()
    output.write(b"signed bytes")
    inode = os.fstat(output.fileno()).st_ino
    name = default_storage.save("provenance/signed/x/out.bin", output)
    output.close()
    stored = Path(default_storage.path(name))
    assert stored.read_bytes() == b"signed bytes"
    assert stored.stat().st_ino == inode  # renamed into place
    assert _partials() == []


def test_a_job_output_is_linked_into_place_with_the_storage_file_mode(settings):
    settings.FILE_UPLOAD_PERMISSIONS = 0o640
    output = SignedOutput()
    output.write(b"signed bytes")
    inode = os.fstat(output.fileno()).st_ino
    name = store_output(output, "provenance/signed/7/1/out.jpg")
    output.close()
    assert name == "provenance/signed/7/1/out.jpg"
    stored = Path(default_storage.path(name))
    assert stored.read_bytes() == b"signed bytes" and stored.stat().st_ino == inode
    assert stored.stat().st_mode & 0o777 == 0o640
    assert store_manifest(b"jumbf", "provenance/signed/7/1/out.c2pa") == (
        "provenance/signed/7/1/out.c2pa"
    )
    assert Path(default_storage.path("provenance/signed/7/1/out.c2pa")).read_bytes() == b"jumbf"
    assert _partials() == []


def test_a_taken_name_gets_another_one_and_nothing_is_overwritten():
    first = store_manifest(b"first", "provenance/signed/7/1/out.c2pa")
    second = store_manifest(b"second", "provenance/signed/7/1/out.c2pa")
    with SignedOutput() as output:
        output.write(b"signed")
        third = store_output(output, "provenance/signed/7/1/out.c2pa")
    assert len({first, second, third}) == 3
    assert [default_storage.open(n).read() for n in (first, second, third)] == [
        b"first",
        b"second",
        b"signed",
    ]
    assert _partials() == []


def test_a_name_leaving_the_storage_is_refused():
    from django.core.exceptions import SuspiciousFileOperation

    with pytest.raises(SuspiciousFileOperation):
        store_manifest(b"x", "../outside.c2pa")


def test_out_of_order_writes_are_hashed_from_the_finished_file():
    with SignedOutput() as output:
        output.write(b"a" * 100)
        output.seek(10)
        output.write(b"b" * 5)
        output.seek(0, os.SEEK_END)
        output.write(b"c")
        expected = b"a" * 10 + b"b" * 5 + b"a" * 85 + b"c"
        assert output.sha256_and_size() == (hashlib.sha256(expected).hexdigest(), 101)
    assert _partials() == []


def test_an_output_never_stored_is_deleted_on_close():
    output = SignedOutput()
    output.write(b"half")
    assert len(_partials()) == 1
    output.close()
    assert _partials() == []


def test_the_sweep_removes_only_stale_partials():
    stale, fresh = SignedOutput(), SignedOutput()
    old = time.time() - 3600
    os.utime(stale.temporary_file_path(), (old, old))
    assert remove_stale_partials(600) == 1
    assert [p.name for p in _partials()] == [Path(fresh.temporary_file_path()).name]
    stale.close()
    fresh.close()
