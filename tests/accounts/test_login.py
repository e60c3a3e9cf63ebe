from __future__ import annotations

import pytest
from django.test import Client

from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def test_the_login_page_renders_with_labels(client: Client):
    response = client.get("/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="id_username">' in html and '<label for="id_password">' in html
    assert "<main" in html


def test_login_and_logout_are_audited(client: Client, viewer):
    response = client.post("/login/", {"username": viewer.username, "password": PASSWORD})
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="auth.login", actor_id=str(viewer.pk)).exists()
    client.post("/logout/")
    assert AuditEvent.objects.filter(action="auth.logout", actor_id=str(viewer.pk)).exists()


def test_failed_logins_are_audited_then_throttled(client: Client, viewer, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post("/login/", {"username": viewer.username, "password": "wrong"})
        assert response.status_code == 200
    locked = client.post("/login/", {"username": viewer.username, "password": "wrong"})
    assert locked.status_code == 429
    # Even the right password is refused while locked out.
    again = client.post("/login/", {"username": viewer.username, "password": PASSWORD})
    assert again.status_code == 429
    assert "_auth_user_id" not in client.session
    failures = AuditEvent.objects.filter(action="auth.login_failed")
    assert failures.count() >= settings.AXES_FAILURE_LIMIT
    assert failures.last().changes["locked_out"] is True


def test_pages_need_login(client: Client):
    response = client.get("/settings/tokens/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_session_cookie_flags_in_production(settings, client: Client, viewer):
    settings.SESSION_COOKIE_SECURE = True
    response = client.post("/login/", {"username": viewer.username, "password": PASSWORD})
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] and cookie["secure"] and cookie["samesite"] == "Lax"


def test_opening_the_sign_out_address_asks_instead_of_an_empty_page(client: Client, viewer):
    client.force_login(viewer)
    response = client.get("/logout/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Sign out of Steward?" in page and 'action="/logout/"' in page
    assert client.get("/models/").status_code == 200  # a GET signs nobody out
    client.post("/logout/")
    assert client.get("/logout/")["Location"] == "/login/"
