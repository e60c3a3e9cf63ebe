from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import VIEWER
from accounts.scopes import SCOPES
from accounts.services import token_create, user_ensure
from audit.context import audit_context
from config.exceptions import DomainError


class Command(BaseCommand):
    help = "Create an API token for a user or service account and print its secret once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="What the token is for.")
        parser.add_argument(
            "--scope",
            action="append",
            dest="scopes",
            required=True,
            choices=sorted(SCOPES),
            help="Repeat for several scopes.",
        )
        parser.add_argument("--expires-days", type=int, default=None)
        parser.add_argument(
            "--service-account",
            action="store_true",
            help="Create USERNAME as a password-less service account with the viewer role "
            "(reads the registry, policies and decisions) if it does not exist.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"]
        user = User.objects.filter(username=username).first()
        if user is None and not options["service_account"]:
            raise CommandError(
                f"No user {username!r}. Pass --service-account to create one for CI."
            )
        expires_at = None
        if options["expires_days"] is not None:
            if options["expires_days"] <= 0:
                raise CommandError("--expires-days must be positive.")
            expires_at = timezone.now() + timedelta(days=options["expires_days"])
        with audit_context(channel="command:create_api_token"), transaction.atomic():
            if user is None:
                # Through the service: audited, and with a role, without which the token
                # could read nothing (not even the decisions its checks made).
                user = user_ensure(
                    actor="create_api_token",
                    username=username,
                    roles=[VIEWER],
                    is_service_account=True,
                )
            try:
                token, secret = token_create(
                    actor=user,
                    owner=user,
                    name=options["name"],
                    scopes=options["scopes"],
                    expires_at=expires_at,
                )
            except DomainError as exc:
                raise CommandError(exc.message) from exc
        self.stderr.write(
            f"Created token {token.name!r} for {user.username} with scopes "
            f"{', '.join(token.scopes)}. The secret below is shown only once:"
        )
        self.stdout.write(secret)
