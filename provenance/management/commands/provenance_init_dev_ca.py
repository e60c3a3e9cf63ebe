from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from audit.context import audit_context
from provenance.bootstrap import ensure_dev_credential


class Command(BaseCommand):
    help = (
        "Create a development CA and signing certificate under PROVENANCE_KEYS_DIR (var/keys/, "
        "git-ignored) and register it as the active signing credential. Idempotent: an existing "
        "dev CA is reused; --force issues a new one. NOT for production."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--force", action="store_true", help="Issue a new CA and leaf.")

    def handle(self, *args: Any, **options: Any) -> None:
        with audit_context(channel="command:provenance_init_dev_ca"):
            credential, created = ensure_dev_credential(force=options["force"])
        verb = "Registered" if created else "Already registered"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb}: {credential.name} ({credential.algorithm}, valid until "
                f"{credential.not_after:%Y-%m-%d}, key {credential.key_reference}). "
                f"Active: {credential.is_active}."
            )
        )
