"""The watermark survives a strip and re-encode, and leads back to the job and manifest."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from provenance import manifest
from provenance.services import verify_file
from tests.provenance.conftest import upload
from tests.provenance.samples import image_bytes

pytestmark = pytest.mark.django_db


def _reencode(data: bytes, *, quality: int = 85, scale: float = 1.0) -> bytes:
    image = Image.open(io.BytesIO(data)).convert("RGB")
    if scale != 1.0:
        image = image.resize((int(image.width * scale), int(image.height * scale)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)  # Pillow writes no C2PA/XMP: the manifest is gone
    return out.getvalue()


def test_a_stripped_and_reencoded_copy_leads_back_to_the_job(sign_now, owner, trust_anchor):
    job = sign_now(upload("png", data=image_bytes("PNG", 384, 384)))
    with job.output_file.open("rb") as handle:
        copy = _reencode(handle.read())
    assert (
        manifest.read(io.BytesIO(copy), "image/jpeg", trust_anchors_pem=trust_anchor).status
        == "no_manifest"
    )

    result = verify_file(actor=owner, upload=SimpleUploadedFile("copy.jpg", copy, "image/jpeg"))
    assert result["manifest"] is None
    assert result["found_by"] == "watermark"
    assert result["watermark"]["decoded_id"] == job.watermark_id
    assert result["job"]["id"] == job.pk
    assert result["stored_manifest"]["active_manifest"] == job.manifest_label


def test_a_downscaled_copy_is_brought_back_to_size_and_still_found(sign_now, owner):
    job = sign_now(upload("jpeg", data=image_bytes("JPEG", 512, 384, quality=92)))
    with job.output_file.open("rb") as handle:
        copy = _reencode(handle.read(), scale=0.75)
    result = verify_file(actor=owner, upload=SimpleUploadedFile("small.jpg", copy, "image/jpeg"))
    assert result["found_by"] == "watermark", result
    assert result["job"]["id"] == job.pk


def test_an_unmarked_image_leads_nowhere(db, owner, credential):
    result = verify_file(
        actor=owner,
        upload=SimpleUploadedFile("other.jpg", image_bytes("JPEG", 256, 256), "image/jpeg"),
    )
    assert result["found_by"] is None
    assert result["job"] is None
    assert result["watermark"]["decoded_id"] is None


def test_verify_reports_the_embedded_manifest_and_its_model(sign_now, owner, version):
    job = sign_now(upload("webp"), watermark=False)
    with job.output_file.open("rb") as handle:
        data = handle.read()
    result = verify_file(actor=owner, upload=SimpleUploadedFile("x.webp", data, "image/webp"))
    assert result["manifest"]["state"] == "trusted"
    assert result["manifest"]["issued_by_steward"] is True
    assert result["manifest"]["software_agent"]["name"] == version.model.name
    assert result["job"]["model_version"]["id"] == version.pk
    assert result["found_by"] == "manifest"


def test_the_watermark_search_stays_within_the_pixel_budget(sign_now, owner, settings):
    """A verify request decodes at most PROVENANCE_VERIFY_DECODE_PIXELS in all: a search it
    cuts short says so rather than holding a server thread for minutes."""
    job = sign_now(upload("jpeg", data=image_bytes("JPEG", 512, 384, quality=92)))
    with job.output_file.open("rb") as handle:
        copy = _reencode(handle.read(), scale=0.75)  # 384 x 288, found at the marked size

    settings.PROVENANCE_VERIFY_DECODE_PIXELS = 384 * 288  # the copy as it is, not the resize
    result = verify_file(actor=owner, upload=SimpleUploadedFile("s.jpg", copy, "image/jpeg"))
    assert result["found_by"] is None
    assert result["watermark"]["sizes_tried"] == 1
    assert "cut short: 1 of 2 candidate sizes" in result["watermark"]["note"]

    settings.PROVENANCE_VERIFY_DECODE_PIXELS = 384 * 288 + 512 * 384  # both fit
    result = verify_file(actor=owner, upload=SimpleUploadedFile("s.jpg", copy, "image/jpeg"))
    assert result["found_by"] == "watermark"
    assert result["job"]["id"] == job.pk

    settings.PROVENANCE_VERIFY_DECODE_PIXELS = 1000  # not even the copy itself
    result = verify_file(actor=owner, upload=SimpleUploadedFile("s.jpg", copy, "image/jpeg"))
    assert result["watermark"]["sizes_tried"] == 0
    assert result["job"] is None
