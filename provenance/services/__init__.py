"""Writes for provenance: credentials, signing jobs (submit and sweep; run) and verification."""

from provenance.services.credentials import (
    active_credential,
    credential_register,
    trust_anchors_pem,
)
from provenance.services.jobs import (
    SIGN_PERMISSION,
    SignOptions,
    enqueue_jobs,
    signing_jobs_submit,
    signing_jobs_sweep,
)
from provenance.services.signing import (
    TRANSIENT_ERRORS,
    JobFailed,
    sign_media,
    signing_job_fail_unexpected,
    signing_job_run,
)
from provenance.services.verification import verify_file

__all__ = [
    "SIGN_PERMISSION",
    "TRANSIENT_ERRORS",
    "JobFailed",
    "SignOptions",
    "active_credential",
    "credential_register",
    "enqueue_jobs",
    "sign_media",
    "signing_job_fail_unexpected",
    "signing_job_run",
    "signing_jobs_submit",
    "signing_jobs_sweep",
    "trust_anchors_pem",
    "verify_file",
]
