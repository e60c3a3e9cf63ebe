"""Signing through the service, read back with c2pa-python against the dev CA."""

from __future__ import annotations

import io

import pytest

from provenance import manifest
from provenance.models import JobStatus, ManifestMode
from tests.provenance.conftest import upload
from tests.provenance.samples import SAMPLES

pytestmark = pytest.mark.django_db


def _read(job, trust_anchor, sidecar=None):
    with job.output_file.open("rb") as handle:
        data = handle.read()
    return data, manifest.read(io.BytesIO(data), job.mime_type, trust_anchors_pem=trust_anchor, sidecar=sidecar)


@pytest.mark.parametrize("kind", sorted(k for k in SAMPLES if k != "bmp"))
def test_it_embeds_a_trusted_manifest_naming_the_model(kind, sign_now, version, trust_anchor):
    job = sign_now(upload(kind), watermark=False)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.manifest_mode == ManifestMode.EMBEDDED
    _, reading = _read(job, trust_anchor)
    assert reading.state == "trusted", (reading.validation_state, reading.failure_codes)
    assert reading.active_label == job.manifest_label
    action = manifest.created_action(reading.active_manifest)
    assert action["digitalSourceType"].endswith("/trainedAlgorithmicMedia")
    agent = action["softwareAgent"]
    assert agent["name"] == version.model.name
    assert agent["version"] == version.label
    assert agent["org.steward.provider"] == version.model.provider
    mining = manifest.find_assertion(reading.active_manifest, "cawg.training-mining")
    assert mining["entries"]["cawg.ai_training"]["use"] == "notAllowed"
