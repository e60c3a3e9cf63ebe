from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import token_revoke
from audit.models import AuditEvent
from config.exceptions import DomainError

pytestmark = pytest.mark.django_db


def _client(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_it_stores_only_a_hash_of_the_secret(viewer, token_for):
    token, secret = token_for(viewer, "registry:read")
    assert secret.startswith("stw_")
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken")
        rows = cursor.fetchall()
    dumped = repr(rows)
    assert secret not in dumped
    assert secret.split("_", 2)[2] not in dumped
    assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest()


def test_it_never_writes_the_secret_into_the_audit_trail(viewer, token_for):
    _, secret = token_for(viewer, "registry:read")
    event = AuditEvent.objects.get(action="api_token.created")
    assert secret not in repr(event.changes) and secret not in repr(event.context)


def test_a_valid_token_authenticates_and_records_last_use(viewer, token_for):
    token, secret = token_for(viewer, "registry:read")
    response = _client(secret).get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["username"] == viewer.username
    assert response.json()["token_scopes"] == ["registry:read"]
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_missing_token_is_401_with_the_error_shape(db):
    response = APIClient().get("/api/v1/me/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "header",
    [
        "Bearer stw_nothere00000_" + "x" * 43,
        "Bearer not-a-steward-token",
        "Bearer",
        "Bearer a b",
    ],
)
def test_wrong_token_is_401(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    body = response.json()["error"]
    assert body["code"] == "authentication_failed"
    assert body["message"]


def test_a_token_with_a_tampered_secret_is_refused(viewer, token_for):
    _, secret = token_for(viewer, "registry:read")
    tampered = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    assert _client(tampered).get("/api/v1/me/").status_code == 401


def test_token_without_the_scope_is_403_naming_the_scope(viewer, token_for):
    _, secret = token_for(viewer, "audit:read")
    response = _client(secret).get("/api/v1/me/")
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "permission_denied"
    assert "registry:read" in error["message"]


def test_a_token_cannot_manage_tokens(viewer, token_for):
    _, secret = token_for(viewer, *["registry:read", "registry:write", "audit:read"])
    response = _client(secret).post(
        "/api/v1/tokens/", {"name": "escalate", "scopes": ["audit:export"]}, format="json"
    )
    assert response.status_code == 403


def test_an_expired_token_is_refused(viewer, token_for):
    token, secret = token_for(
        viewer, "registry:read", expires_at=timezone.now() + timedelta(hours=1)
    )
    assert _client(secret).get("/api/v1/me/").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert _client(secret).get("/api/v1/me/").status_code == 401


def test_a_revoked_token_is_refused_and_the_revocation_audited(viewer, token_for):
    token, secret = token_for(viewer, "registry:read")
    token_revoke(actor=viewer, token=token)
    assert _client(secret).get("/api/v1/me/").status_code == 401
    event = AuditEvent.objects.get(action="api_token.revoked")
    assert event.actor_label == viewer.username
    assert event.target_id == str(token.pk)


def test_a_deactivated_users_token_is_refused(viewer, token_for):
    _, secret = token_for(viewer, "registry:read")
    viewer.is_active = False
    viewer.save()
    assert _client(secret).get("/api/v1/me/").status_code == 401


def test_unknown_scopes_and_past_expiry_are_refused(viewer, token_for):
    with pytest.raises(DomainError, match="Unknown scope"):
        token_for(viewer, "registry:delete")
    with pytest.raises(DomainError, match="future"):
        token_for(viewer, "registry:read", expires_at=timezone.now() - timedelta(days=1))


def test_someone_elses_token_cannot_be_revoked(viewer, owner, token_for):
    token, _ = token_for(owner, "registry:read")
    client = APIClient()
    client.force_login(viewer)
    assert client.delete(f"/api/v1/tokens/{token.pk}/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_api_token_create_returns_secret_once_and_it_works(viewer):
    client = APIClient()
    client.force_login(viewer)
    created = client.post(
        "/api/v1/tokens/", {"name": "ci", "scopes": ["registry:read"]}, format="json"
    )
    assert created.status_code == 201
    secret = created.json()["token"]
    listed = client.get("/api/v1/tokens/").json()
    assert listed["count"] == 1
    assert all("token" not in item for item in listed["results"])
    assert _client(secret).get("/api/v1/me/").status_code == 200


def test_api_token_create_validation_error_shape(viewer):
    client = APIClient()
    client.force_login(viewer)
    response = client.post("/api/v1/tokens/", {"name": "", "scopes": ["nope"]}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == {"name", "scopes"}


def test_the_ui_creates_a_token_and_shows_the_secret_once(client, viewer):
    client.force_login(viewer)
    response = client.post("/settings/tokens/", {"name": "deploy", "scopes": ["policy:check"]})
    assert response.status_code == 200
    secret = response.context["new_secret"]
    assert secret.startswith("stw_") and secret in response.content.decode()
    again = client.get("/settings/tokens/")
    assert secret not in again.content.decode()
    assert "deploy" in again.content.decode()


def test_the_ui_refuses_a_token_without_scopes(client, viewer):
    client.force_login(viewer)
    response = client.post("/settings/tokens/", {"name": "deploy"})
    assert response.status_code == 400
    assert ApiToken.objects.count() == 0


def test_create_api_token_command_prints_a_working_secret(db, capsys):
    call_command(
        "create_api_token",
        "ci-bot",
        "--service-account",
        "--name",
        "gh",
        "--scope",
        "registry:read",
    )
    secret = capsys.readouterr().out.strip()
    assert secret.startswith("stw_")
    assert _client(secret).get("/api/v1/me/").json()["username"] == "ci-bot"
    event = AuditEvent.objects.get(action="api_token.created")
    assert event.context["channel"] == "command:create_api_token"


def test_a_service_account_made_for_a_token_can_read_what_its_checks_decided(db, capsys):
    # Made role-less, the README's CI token could check but read nothing: its own decisions
    # were 404 and registry lists came back empty; and the user was created unaudited.
    call_command(
        "create_api_token", "new-ci", "--service-account", "--name", "gh",
        "--scope", "policy:check", "--scope", "registry:read",
    )  # fmt: skip
    client = _client(capsys.readouterr().out.strip())
    assert client.get("/api/v1/me/").json()["roles"] == ["viewer"]
    assert AuditEvent.objects.filter(action="user.created").exists()


def test_a_concurrent_create_of_the_same_token_name_is_a_400(viewer, token_for, monkeypatch):
    # A double-submitted token form: the second request's name check ran before the first
    # request's insert.
    from django.db.models import QuerySet

    token_for(viewer, "registry:read", name="deploy")
    exists = QuerySet.exists
    monkeypatch.setattr(
        QuerySet, "exists", lambda qs: False if qs.model is ApiToken else exists(qs)
    )
    with pytest.raises(DomainError) as refused:
        token_for(viewer, "registry:read", name="deploy")
    assert "name" in refused.value.fields
    assert ApiToken.objects.filter(user=viewer, name="deploy").count() == 1


def test_audit_event_for_token_use_names_the_token(viewer, token_for):
    from audit.services import record_event

    token, secret = token_for(viewer, "registry:read")
    # A request authenticated by token binds it into the audit context for that request.
    from accounts.services import token_authenticate
    from audit.context import audit_context

    with audit_context(channel="api"):
        assert token_authenticate(secret) is not None
        event = record_event(actor=viewer, action="test.used")
    assert event.actor_type == "token"
    assert token.key_id in event.actor_label


def test_the_hand_written_lookup_agrees_with_the_usable_queryset(viewer, token_for):
    """accounts.selectors.usable_token is ``ApiToken.objects.usable()`` written out for speed:
    the same tokens pass (revoked, expired, inactive users do not), with the same values."""
    from accounts.selectors import usable_token

    now = timezone.now()
    live, _ = token_for(viewer, "registry:read", name="live")
    expiring, _ = token_for(viewer, "registry:read", name="expiring")
    expiring.expires_at = now + timedelta(minutes=5)
    expiring.save()
    expired, _ = token_for(viewer, "registry:read", name="expired")
    expired.expires_at = now - timedelta(seconds=1)
    expired.save()
    revoked, _ = token_for(viewer, "registry:read", name="revoked")
    token_revoke(actor=viewer, token=revoked)
    for token in (live, expiring, expired, revoked):
        orm = ApiToken.objects.usable().select_related("user").filter(pk=token.pk).first()
        raw = usable_token(token.key_id, now=now)
        assert (raw is None) == (orm is None), token.name
        if raw is not None:
            fields = [f.attname for f in ApiToken._meta.concrete_fields]
            assert [getattr(raw, f) for f in fields] == [getattr(orm, f) for f in fields]
            assert raw.user == orm.user and raw.user.username == viewer.username
            assert raw.user.is_active and raw.scopes == ["registry:read"]
    assert usable_token(expiring.key_id, now=now + timedelta(minutes=6)) is None
    viewer.is_active = False
    viewer.save()
    assert usable_token(live.key_id, now=now) is None
