from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from provenance import devca
from provenance.models import SigningCredential, SigningJob
from provenance.services import (
    SignOptions,
    credential_register,
    signing_job_run,
    signing_jobs_submit,
)
from tests.provenance.factories import approved_version
from tests.provenance.samples import SAMPLES


@pytest.fixture(scope="session")
def dev_ca_dir(tmp_path_factory: pytest.TempPathFactory) -> devca.DevCA:
    return devca.write_dev_ca(tmp_path_factory.mktemp("keys"))


@pytest.fixture(autouse=True)
def _keys_dir(settings: Any, tmp_path: Path) -> None:
    settings.PROVENANCE_KEYS_DIR = tmp_path / "keys"


@pytest.fixture
def credential(db: None, dev_ca_dir: devca.DevCA) -> SigningCredential:
    return credential_register(
        actor="tests",
        name="test-dev",
        certificate_chain=dev_ca_dir.chain.read_text(),
        key_reference=f"file:{dev_ca_dir.leaf_key}",
        trust_anchor=dev_ca_dir.root_cert.read_text(),
    )


@pytest.fixture
def trust_anchor(dev_ca_dir: devca.DevCA) -> str:
    return dev_ca_dir.root_cert.read_text()


@pytest.fixture
def version(db: None) -> Any:
    return approved_version()


def upload(
    kind: str, name: str | None = None, data: bytes | None = None, content_type: str | None = None
) -> SimpleUploadedFile:
    file_name, mime, make = SAMPLES[kind]
    return SimpleUploadedFile(
        name or file_name, make() if data is None else data, content_type or mime
    )


@pytest.fixture
def sign_now(owner: Any, version: Any, credential: SigningCredential) -> Callable[..., SigningJob]:
    """Submit one file and run the job in this process (no worker); returns the finished job."""

    def sign(file: SimpleUploadedFile, **options: Any) -> SigningJob:
        (job,) = signing_jobs_submit(
            actor=owner, files=[file], model_version_id=version.pk, options=SignOptions(**options)
        )
        result = signing_job_run(job_id=job.pk)
        assert result is not None
        return result

    return sign
