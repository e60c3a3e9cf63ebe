"""Bodies over Django's request limits: 413 (size) or 400 (count) with the error shape, never
a bare "Bad request." nor a 500."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.test import Client
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

LIMIT = 2000


@pytest.fixture
def small_limit(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT


@pytest.fixture
def logged_in(api_client: APIClient, viewer) -> APIClient:
    api_client.force_login(viewer)
    return api_client


def _assert_413(response) -> None:
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "payload_too_large"
    assert f"{LIMIT:,} bytes" in error["message"]


def test_a_json_body_over_the_limit_is_a_json_413(logged_in, small_limit):
    body = '{"name": "' + "x" * (LIMIT * 2) + '"}'
    _assert_413(logged_in.post("/api/v1/tokens/", data=body, content_type="application/json"))


def test_multipart_fields_over_the_limit_are_a_json_413(logged_in, small_limit):
    response = logged_in.post(
        "/api/v1/tokens/", data={"name": "x" * (LIMIT * 2)}, format="multipart"
    )
    _assert_413(response)


def test_a_form_encoded_body_over_the_limit_is_a_json_413(logged_in, small_limit):
    response = logged_in.post(
        "/api/v1/tokens/",
        data=urlencode({"name": "x" * (LIMIT * 2)}),
        content_type="application/x-www-form-urlencoded",
    )
    _assert_413(response)


def test_too_many_multipart_fields_are_a_clear_400(logged_in, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    response = logged_in.post(
        "/api/v1/tokens/", data={f"f{i}": "x" for i in range(10)}, format="multipart"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "too_many_fields"
    assert "at most 5 fields" in error["message"]


def test_a_page_posted_over_the_limit_is_a_413_page(viewer, small_limit):
    # With a CSRF cookie, the CSRF middleware reads the form, before the view runs.
    client = Client(enforce_csrf_checks=True)
    client.force_login(viewer)
    assert client.get("/settings/tokens/").status_code == 200
    response = client.post("/settings/tokens/", data={"name": "x" * (LIMIT * 2)})
    assert response.status_code == 413
    assert response["Content-Type"].startswith("text/html")
    assert f"{LIMIT:,} bytes" in response.content.decode()


def test_a_page_posted_with_too_many_fields_is_a_400_page_saying_why(viewer, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    client = Client()
    client.force_login(viewer)
    response = client.post("/settings/tokens/", data={f"f{i}": "x" for i in range(10)})
    assert response.status_code == 400
    assert "at most 5 fields" in response.content.decode()
