"""Writes for accounts: API tokens and the audit of sign-ins."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import ApiToken, Team, User
from accounts.roles import ADMIN, ROLES, user_has_role
from accounts.scopes import validate_scopes
from accounts.selectors import usable_token
from audit.context import bind
from audit.models import Outcome
from audit.services import record_event
from config.exceptions import DomainError, NotAllowed, NotFound

TOKEN_PREFIX = "stw_"  # noqa: S105 - a public marker, not a secret
# last_used_at is a hint, not an audit record: write it at most once a minute per token.
_LAST_USED_RESOLUTION = timedelta(seconds=60)


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _split_token(raw: str) -> tuple[str, str] | None:
    if not raw.startswith(TOKEN_PREFIX):
        return None
    body = raw[len(TOKEN_PREFIX) :]
    key_id, sep, random_part = body.partition("_")
    if not sep or len(key_id) != 12 or len(random_part) < 32:
        return None
    return key_id, random_part


@transaction.atomic
def token_create(
    *,
    actor: User,
    owner: User,
    name: str,
    scopes: list[str],
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is never stored or shown again."""
    if owner.pk != actor.pk and not user_has_role(actor, ADMIN):
        raise NotAllowed("Only an admin can create tokens for another user.")
    name = (name or "").strip()
    if not name:
        raise DomainError("A token needs a name.", fields={"name": ["Required."]})
    if ApiToken.objects.filter(user=owner, name=name).exists():
        raise DomainError(
            f"{owner.username} already has a token named {name!r}.",
            fields={"name": ["Already in use."]},
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise DomainError(
            "The expiry must be in the future.", fields={"expires_at": ["Must be in the future."]}
        )
    clean_scopes = validate_scopes(list(scopes))
    key_id = secrets.token_hex(6)
    secret = f"{TOKEN_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    try:
        with transaction.atomic():
            token = ApiToken.objects.create(
                user=owner,
                name=name,
                key_id=key_id,
                secret_hash=_hash_secret(secret),
                scopes=clean_scopes,
                expires_at=expires_at,
                created_by=actor,
            )
    except IntegrityError as exc:  # a concurrent create of the same name (a double submit)
        raise DomainError(
            f"{owner.username} already has a token named {name!r}.",
            fields={"name": ["Already in use."]},
        ) from exc
    record_event(
        actor=actor,
        action="api_token.created",
        target=token,
        changes={
            "owner": owner.username,
            "scopes": clean_scopes,
            "expires_at": expires_at,
            "key_id": key_id,
        },
    )
    return token, secret


@transaction.atomic
def token_revoke(*, actor: User, token: ApiToken) -> ApiToken:
    if token.user_id != actor.pk and not user_has_role(actor, ADMIN):
        raise NotFound("No such token.")
    if token.revoked_at is not None:
        return token
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record_event(
        actor=actor,
        action="api_token.revoked",
        target=token,
        changes={"owner": token.user.username, "key_id": token.key_id},
    )
    return token


def token_authenticate(
    raw: str,
    *,
    request: HttpRequest | None = None,
    extra_columns: Mapping[str, str] | None = None,
) -> ApiToken | None:
    """The usable token matching ``raw``, or None. Records its use.

    ``extra_columns``: SQL expressions the view needs anyway, read in the token's own query
    (one round trip less) and set as attributes of the returned token."""
    parts = _split_token(raw)
    if parts is None:
        return None
    key_id, _ = parts
    now = timezone.now()
    token = usable_token(key_id, now=now, extra_columns=extra_columns)
    if token is None or not hmac.compare_digest(token.secret_hash, _hash_secret(raw)):
        return None
    if token.last_used_at is None or now - token.last_used_at > _LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    bind(token_id=token.pk, token_label=f"token {token.name} ({token.display_prefix})")
    return token


def login_succeeded(*, user: User) -> None:
    record_event(actor=user, action="auth.login", target=user)


def login_failed(*, username: str, locked_out: bool) -> None:
    record_event(
        actor=None,
        action="auth.login_failed",
        target=("accounts.user", "", username[:150]),
        changes={"username": username[:150], "locked_out": locked_out},
        outcome=Outcome.DENIED,
    )


def logout_recorded(*, user: User) -> None:
    record_event(actor=user, action="auth.logout", target=user)


@transaction.atomic
def user_ensure(
    *,
    actor: Any,
    username: str,
    roles: list[str],
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    password: str | None = None,
    is_service_account: bool = False,
    is_superuser: bool = False,
) -> User:
    """Create or update a user with exactly ``roles`` (idempotent; used by seed_demo)."""
    from django.contrib.auth.models import Group

    unknown = set(roles) - ROLES.keys()
    if unknown:
        raise DomainError(f"Unknown role(s): {', '.join(sorted(unknown))}")
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "email": email,
            "first_name": first_name,
            "last_name": last_name,
            "is_service_account": is_service_account,
            "is_superuser": is_superuser,
            "is_staff": is_superuser,
        },
    )
    if created:
        if password and not is_service_account:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
    before = sorted(user.groups.values_list("name", flat=True))
    user.groups.set(Group.objects.filter(name__in=roles))
    after = sorted(roles)
    if created or before != after:
        record_event(
            actor=actor,
            action="user.created" if created else "user.roles_changed",
            target=user,
            changes={"roles": {"before": before, "after": after}},
        )
    return user


@transaction.atomic
def team_ensure(*, actor: Any, slug: str, name: str, members: list[User]) -> Team:
    team, created = Team.objects.get_or_create(slug=slug, defaults={"name": name})
    current = set(team.members.values_list("pk", flat=True))
    wanted = {member.pk for member in members}
    if current != wanted:
        team.members.set(members)
    if created or current != wanted:
        record_event(
            actor=actor,
            action="team.created" if created else "team.members_changed",
            target=team,
            changes={"members": sorted(member.username for member in members)},
        )
    return team
