"""Permission-matrix rows of provenance (issue 6): signing jobs and verification."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.roles import ADMIN
from provenance import devca
from tests.matrix.access import JOB_READERS, OWNERS, SIGN, Access, Route
from tests.matrix.builders import Ctx, png_bytes


def job_kwargs(ctx: Ctx) -> dict[str, Any]:
    return {"pk": ctx.signing_job().pk}


def verify_body(ctx: Ctx) -> dict[str, Any]:
    return {"file": SimpleUploadedFile("check.png", png_bytes(), "image/png")}


def sign_form(ctx: Ctx) -> dict[str, Any]:
    body = ctx.sign_body()
    return {"uploads": body.pop("files"), **body}


def credential_form(ctx: Ctx) -> dict[str, Any]:
    """A credential of a fresh CA of one's own (each case registers a new certificate)."""
    ca = devca.write_dev_ca(Path(tempfile.mkdtemp(prefix="matrix-ca-")))
    return {
        "name": f"corp-{ca.chain.parent.name}",
        "certificate_chain": ca.chain.read_text(),
        "key_reference": f"file:{ca.leaf_key}",
        "activate": "on",
    }


PROVENANCE: dict[str, Route] = {
    "provenance-api-sign": Route(
        "api", {"POST": Access(202, OWNERS, SIGN, body=lambda ctx: ctx.sign_body(), multipart=True)}
    ),
    "provenance-api-job-list": Route("api", {"GET": Access(200, scope=SIGN)}),
    "provenance-api-job-detail": Route(
        "api", {"GET": Access(200, JOB_READERS, SIGN, denied=404)}, kwargs=job_kwargs
    ),
    "provenance-api-job-download": Route(
        "api", {"GET": Access(200, JOB_READERS, SIGN, denied=404)}, kwargs=job_kwargs
    ),
    # Verifying a file is open to every role (a token still needs provenance:sign).
    "provenance-api-verify": Route(
        "api", {"POST": Access(200, scope=SIGN, body=verify_body, multipart=True)}
    ),
    # --- pages ---
    "provenance:job-list": Route(
        "ui",
        {"GET": Access(200), "POST": Access(302, OWNERS, body=sign_form, multipart=True)},
    ),
    "provenance:job-detail": Route(
        "ui", {"GET": Access(200, JOB_READERS, denied=404)}, kwargs=job_kwargs
    ),
    "provenance:job-download": Route(
        "ui", {"GET": Access(200, JOB_READERS, denied=404)}, kwargs=job_kwargs
    ),
    "provenance:verify": Route(
        "ui", {"GET": Access(200), "POST": Access(200, body=verify_body, multipart=True)}
    ),
    # Only admins see and register signing credentials.
    "provenance:credential-list": Route(
        "ui",
        {
            "GET": Access(200, frozenset({ADMIN})),
            "POST": Access(302, frozenset({ADMIN}), body=credential_form),
        },
    ),
}
