from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.context import audit_context
from config.exceptions import DomainError
from provenance.services import credential_register


class Command(BaseCommand):
    help = (
        "Register a signing credential from your own CA: a PEM certificate chain (leaf first) "
        "and a key reference (file:/path/to/key.pem or env:VARIABLE), never the key itself. "
        "Checks the chain, the C2PA profile and the key, and makes a test signature; a bad "
        "credential is refused with the reason (exit status 1)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--chain", required=True, type=Path, help="PEM file, leaf first.")
        parser.add_argument(
            "--key-reference", required=True, help="file:/path/to/key.pem or env:VARIABLE"
        )
        parser.add_argument("--trust-anchor", type=Path, help="PEM file of the root (optional).")
        parser.add_argument(
            "--inactive", action="store_true", help="Register without making it the active one."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            chain = options["chain"].read_text()
            anchor = options["trust_anchor"].read_text() if options["trust_anchor"] else ""
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read the PEM file: {exc}") from exc
        try:
            with audit_context(channel="command:provenance_register_credential"):
                credential = credential_register(
                    actor="provenance_register_credential",
                    name=options["name"],
                    certificate_chain=chain,
                    key_reference=options["key_reference"],
                    trust_anchor=anchor,
                    activate=not options["inactive"],
                )
        except DomainError as exc:
            raise CommandError(f"Refused: {exc.message}") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Registered: {credential.name} ({credential.algorithm}, {credential.subject}, "
                f"valid until {credential.not_after:%Y-%m-%d}). Active: {credential.is_active}."
            )
        )
