from __future__ import annotations

from django.http import FileResponse

from config.exceptions import Conflict, Unprocessable
from provenance import media
from provenance.models import JobStatus, SigningJob


def download_response(job: SigningJob, part: str) -> FileResponse:
    """The signed file (``part=file``) or its manifest store (``part=manifest``)."""
    if part not in ("file", "manifest"):
        raise Unprocessable(
            "part must be 'file' or 'manifest'.", fields={"part": ["Unknown part."]}
        )
    if job.status != JobStatus.SUCCEEDED:
        raise Conflict(f"Job {job.pk} is {job.status}; there is nothing to download yet.")
    stem = job.input_name.rsplit(".", 1)[0] or f"job-{job.pk}"
    if part == "manifest":
        return FileResponse(
            job.manifest_file.open("rb"),
            as_attachment=True,
            filename=f"{stem}.c2pa",
            content_type="application/c2pa",
        )
    fmt = media.FORMATS[job.mime_type]
    return FileResponse(
        job.output_file.open("rb"),
        as_attachment=True,
        filename=f"{stem}-signed{fmt.extension}",
        content_type=job.mime_type,
    )
