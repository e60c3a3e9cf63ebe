"""Model card and lm-eval uploads are bounded before they are read: 413 (API) or a form
error (page) naming the limit; and no request body over STEWARD_MAX_UPLOAD_BYTES is read."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.test import Client

from config.uploads import PayloadTooLarge, read_upload
from registry import services
from registry.models import AIModel, EvalResult

CARD_LIMIT = f"{services.MAX_CARD_BYTES:,} bytes"
LM_EVAL_LIMIT = f"{services.MAX_LM_EVAL_BYTES:,} bytes"


class _UnreadableFile(io.BytesIO):
    def read(self, size: int | None = -1) -> bytes:
        raise AssertionError("read an upload whose size is over the limit")


def test_an_upload_over_the_limit_is_refused_without_reading_it():
    upload = UploadedFile(_UnreadableFile(), name="big.json", size=105 * 1024 * 1024)
    with pytest.raises(PayloadTooLarge) as refused:
        read_upload(upload, limit=1024, what="The file")
    assert refused.value.status_code == 413
    assert "110,100,480 bytes" in refused.value.message
    assert "1,024 bytes" in refused.value.message


def test_an_upload_understating_its_size_is_read_only_to_the_limit():
    class Counting(io.BytesIO):
        largest_read = 0

        def read(self, size: int | None = -1) -> bytes:
            Counting.largest_read = max(Counting.largest_read, size or -1)
            return super().read(size)

    upload = UploadedFile(Counting(b"x" * 10_000), name="liar.json", size=10)
    with pytest.raises(PayloadTooLarge):
        read_upload(upload, limit=1024, what="The file")
    assert 0 < Counting.largest_read <= 1025


def test_an_upload_within_the_limit_is_read_whole():
    upload = SimpleUploadedFile("ok.json", b"x" * 1024)
    assert read_upload(upload, limit=1024, what="The file") == b"x" * 1024


def test_an_oversized_model_card_upload_is_413_naming_the_limit(bearer, owner, team):
    card = b"---\nlicense: mit\n---\n" + b"x" * services.MAX_CARD_BYTES
    response = bearer(owner, "registry:write").post(
        "/api/v1/models/import-card/",
        {"file": SimpleUploadedFile("README.md", card), "dry_run": "true"},
        format="multipart",
    )
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "payload_too_large"
    assert CARD_LIMIT in error["message"] and "README.md" in error["message"]


def test_oversized_pasted_model_card_content_is_413_too(bearer, owner, team):
    content = "---\nlicense: mit\n---\n" + "x" * services.MAX_CARD_BYTES
    response = bearer(owner, "registry:write").post(
        "/api/v1/models/import-card/", {"content": content, "dry_run": True}, format="json"
    )
    assert response.status_code == 413
    assert CARD_LIMIT in response.json()["error"]["message"]


def test_an_oversized_lm_eval_upload_is_413_and_saves_nothing(bearer, owner, draft):
    results = b'{"results": {}, "pad": "' + b"x" * services.MAX_LM_EVAL_BYTES + b'"}'
    response = bearer(owner, "registry:write").post(
        f"/api/v1/model-versions/{draft.pk}/evals/import-lm-eval/",
        {"file": SimpleUploadedFile("results.json", results)},
        format="multipart",
    )
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "payload_too_large"
    assert LM_EVAL_LIMIT in error["message"]
    assert not EvalResult.objects.filter(version=draft).exists()


def test_the_import_page_shows_an_oversized_card_as_a_form_error(owner, team):
    client = Client()
    client.force_login(owner)
    card = b"---\nlicense: mit\n---\n" + b"x" * services.MAX_CARD_BYTES
    response = client.post("/models/import/", {"file": SimpleUploadedFile("README.md", card)})
    assert response.status_code == 413
    assert response.context["form"].errors["file"] == [
        f"The model card README.md is {len(card):,} bytes; at most {CARD_LIMIT} (1 MiB) "
        "are accepted."
    ]
    assert not AIModel.objects.exists()


def test_a_request_over_steward_max_upload_bytes_is_413_before_it_is_read(
    bearer, owner, draft, settings
):
    settings.STEWARD_MAX_UPLOAD_BYTES = 1000
    body = b"x" * (1000 + 64 * 1024 + 1)
    response = bearer(owner, "registry:write").post(
        f"/api/v1/model-versions/{draft.pk}/evals/import-lm-eval/",
        {"file": SimpleUploadedFile("results.json", body)},
        format="multipart",
    )
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "payload_too_large"
    assert "1,000 bytes" in error["message"]


def test_a_page_posted_over_steward_max_upload_bytes_is_a_413_page(owner, settings):
    settings.STEWARD_MAX_UPLOAD_BYTES = 1000
    client = Client()
    client.force_login(owner)
    body = b"x" * (1000 + 64 * 1024 + 1)
    response = client.post("/models/import/", {"file": SimpleUploadedFile("README.md", body)})
    assert response.status_code == 413
    assert "1,000 bytes" in response.content.decode()
