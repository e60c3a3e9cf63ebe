"""Input the API fuzzer (tests/fuzz) found answering 500: each is now a clear answer."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["²", "9" * 30, "1" + "0" * 5000])
def test_a_model_filter_that_is_no_slug_and_no_id_matches_nothing(
    auditor, bearer, some_events, model
):
    # '²' passes str.isdigit() but int() refuses it: the filter crashed (500).
    some_events(2)
    response = bearer(auditor, "audit:read").get("/api/v1/audit/events/", {"model": model})
    assert response.status_code == 200, response.content
    assert response.json()["count"] == 0


def test_a_time_filter_with_an_offset_postgresql_refuses_is_read_in_utc(
    auditor, bearer, some_events
):
    # +18:23 is a valid offset for Python but not for PostgreSQL (DataError: 500).
    some_events(2)
    client = bearer(auditor, "audit:read")
    after = client.get("/api/v1/audit/events/", {"occurred_after": "2000-01-01T12:00:00+18:23"})
    assert after.status_code == 200, after.content
    assert after.json()["count"] >= 2
    before = client.get("/api/v1/audit/events/", {"occurred_before": "2000-01-01T12:00:00+18:23"})
    assert before.json()["count"] == 0


@pytest.mark.parametrize(
    "name, value",
    [
        ("occurred_after", "0001-01-01T00:00:00+18:00"),
        ("occurred_before", "9999-12-31T23:59:59-18:00"),
    ],
)
def test_a_time_filter_with_no_utc_equivalent_is_400(auditor, bearer, name, value):
    response = bearer(auditor, "audit:read").get("/api/v1/audit/events/", {name: value})
    assert response.status_code == 400, response.content
    assert name in response.json()["error"]["fields"]


def test_the_explorer_page_shows_a_time_with_no_utc_equivalent_as_a_form_error(
    auditor, client, some_events
):
    some_events(1)
    client.force_login(auditor)
    response = client.get("/audit/", {"occurred_after": "0001-01-01T00:00:00+18:00"})
    assert response.status_code == 400
    assert b"This time has no UTC equivalent." in response.content
