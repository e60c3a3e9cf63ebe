"""Reading uploaded files with a size limit, before anything holds them in memory.

Django spools a large multipart file to a temporary file; ``UploadedFile.size`` is known
before a byte of it is read, so a file over the limit is refused without reading it, and
at most ``limit + 1`` bytes are ever read (the size a client declares in its part headers
is not trusted alone).
"""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile

from config.exceptions import DomainError


class PayloadTooLarge(DomainError):
    status_code = 413
    code = "payload_too_large"


def byte_size(count: int) -> str:
    """``10,485,760 bytes (10 MiB)``: exact for scripts, readable for people."""
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if count >= factor:
            return f"{count:,} bytes ({count / factor:.3g} {unit})"
    return f"{count:,} bytes"


def too_large_message(what: str, limit: int, size: int | None = None) -> str:
    found = f" is {size:,} bytes;" if size is not None else " is too large;"
    return f"{what}{found} at most {byte_size(limit)} are accepted."


def read_upload(upload: UploadedFile, *, limit: int, what: str, field: str = "file") -> bytes:
    """The upload's bytes, or PayloadTooLarge (413) naming ``what`` and the limit."""
    size = upload.size
    if size is not None and size > limit:
        raise PayloadTooLarge(
            too_large_message(what, limit, size),
            fields={field: [f"At most {byte_size(limit)}."]},
        )
    upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(
            too_large_message(what, limit), fields={field: [f"At most {byte_size(limit)}."]}
        )
    return data
