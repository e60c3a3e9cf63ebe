"""Where a signing job's output is written: hashed as c2pa writes it, and moved (not copied)
into the media storage.

The signed asset used to be written to an anonymous temporary file, read back whole to hash
it, then copied into the storage: three passes over every byte besides c2pa's own. Now c2pa
writes into a temporary file in the storage's own directory tree, which the storage takes
over with a rename (Django's ``FileSystemStorage`` moves any file that has a
``temporary_file_path``), and the SHA-256 is computed from the writes themselves as long as
they arrive in order (they do for every format tried; anything else falls back to reading the
file once). With another storage backend the file lives in the system's temporary directory
and the storage copies it, as before.

``store_output``/``store_manifest`` put a job's files at their own names (each attempt has its
own folder, so the names are free): on a filesystem storage by a hard link of the partial file
and a plain exclusive create, without ``Storage.save``'s name search and copy machinery;
otherwise (or should the name be taken after all) through ``Storage.save``.

A worker killed mid-sign leaves its partial file behind: ``remove_stale_partials`` (run by the
provenance sweep) deletes those older than the job lease.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
from pathlib import Path

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage, storages
from django.core.files.utils import validate_file_name

PARTIAL_DIR = "provenance/.partial"
SUFFIX = ".part"


def partial_dir() -> Path | None:
    """The temporary directory next to the stored files (None for non-filesystem storage)."""
    if not isinstance(default_storage, FileSystemStorage):
        return None
    return Path(default_storage.location) / PARTIAL_DIR


class SignedOutput(File):  # type: ignore[type-arg]
    """A writable, seekable file for c2pa's output that knows its SHA-256 and size."""

    def __init__(self) -> None:
        directory = partial_dir()
        try:
            fd, path = tempfile.mkstemp(dir=directory, suffix=SUFFIX)
        except FileNotFoundError:  # first use of this media folder
            assert directory is not None
            directory.mkdir(parents=True, exist_ok=True)
            fd, path = tempfile.mkstemp(dir=directory, suffix=SUFFIX)
        # A plain file object, not NamedTemporaryFile's wrapper: c2pa calls into it per chunk.
        handle = os.fdopen(fd, "w+b")
        super().__init__(handle, name=os.path.basename(path))
        self._handle = handle
        self._path = path
        self._inode = os.fstat(fd).st_ino
        self._sha = hashlib.sha256()
        self._hashed = 0
        self._in_order = True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        if self._in_order:
            if self._handle.tell() == self._hashed:
                self._sha.update(data)
                self._hashed += len(data)
            else:  # a rewrite or a hole: hash the finished file instead
                self._in_order = False
        return self._handle.write(data)

    def temporary_file_path(self) -> str:
        return self._path

    def sha256_and_size(self) -> tuple[str, int]:
        self._handle.flush()
        size = os.fstat(self._handle.fileno()).st_size
        if self._in_order and self._hashed == size:
            return self._sha.hexdigest(), size
        self._handle.seek(0)
        digest = hashlib.sha256()
        while chunk := self._handle.read(1 << 20):
            digest.update(chunk)
        self._handle.seek(0)
        return digest.hexdigest(), size

    def close(self) -> None:
        """Close, and delete the temporary file unless the storage has taken it over."""
        if not self.closed:
            super().close()
        with contextlib.suppress(OSError):
            if os.stat(self._path).st_ino == self._inode:
                os.unlink(self._path)

    def __enter__(self) -> SignedOutput:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _direct_path(name: str) -> str | None:
    """Where ``name`` goes in a filesystem storage, its folder made as the storage would make
    it; None when the storage is not Django's own filesystem storage as configured by default
    (a subclass may save differently; then use ``Storage.save``)."""
    storage = storages["default"]  # what default_storage stands for
    if type(storage) is not FileSystemStorage or storage.directory_permissions_mode is not None:
        return None
    validate_file_name(name, allow_relative_path=True)
    path = storage.path(name)  # refuses a name that would leave the storage
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return path


def _set_mode(path: str) -> None:
    mode = storages["default"].file_permissions_mode  # type: ignore[attr-defined]
    if mode is not None:
        os.chmod(path, mode)


def store_output(output: SignedOutput, name: str) -> str:
    """Store the signed output as ``name``; returns the stored name. The partial file is
    linked into place (its own name goes when ``output`` is closed)."""
    path = _direct_path(name)
    if path is not None:
        output.flush()
        try:
            os.link(output.temporary_file_path(), path)
        except FileExistsError:
            pass
        else:
            _set_mode(path)
            return name
    return default_storage.save(name, output)


def store_manifest(data: bytes, name: str) -> str:
    """Store the manifest store's bytes as ``name``; returns the stored name."""
    path = _direct_path(name)
    if path is not None:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0))
        except FileExistsError:
            pass
        else:
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
            except OSError:
                os.unlink(path)  # never leave a partial manifest behind
                raise
            _set_mode(path)
            return name
    return default_storage.save(name, ContentFile(data))


def remove_stale_partials(older_than_seconds: float) -> int:
    """Delete partial outputs left by workers that died mid-sign."""
    directory = partial_dir()
    if directory is None or not directory.is_dir():
        return 0
    cutoff = time.time() - older_than_seconds
    removed = 0
    for path in directory.glob(f"*{SUFFIX}"):
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
    return removed
