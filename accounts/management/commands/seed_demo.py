from __future__ import annotations

from importlib import import_module
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts.roles import ADMIN, APPROVER, AUDITOR, MODEL_OWNER, VIEWER, sync_role_groups
from accounts.services import team_ensure, user_ensure
from audit.context import audit_context

# (username, first, last, roles, teams)
DEMO_USERS = [
    ("admin", "Ada", "Admin", [ADMIN], ["platform"]),
    ("ciso", "Claire", "Iso", [APPROVER], ["security"]),
    ("risk", "Rahul", "Singh", [APPROVER], ["security"]),
    ("owner", "Olu", "Owens", [MODEL_OWNER], ["ml-platform"]),
    ("researcher", "Rin", "Sato", [MODEL_OWNER], ["research"]),
    ("auditor", "Aude", "Martin", [AUDITOR], ["compliance"]),
    ("viewer", "Vic", "Viewer", [VIEWER], []),
]
DEMO_TEAMS = {
    "platform": "Platform",
    "security": "Security & Risk",
    "ml-platform": "ML Platform",
    "research": "Applied Research",
    "compliance": "Compliance",
}
# Apps that add demo data, in dependency order, each with ``seed(users=..., teams=...)``, and
# optionally ``seed_reference()``: catalogs other apps' data names, loaded before any seed().
SEED_APPS = ["registry", "policy", "provenance", "audit"]


class Command(BaseCommand):
    help = (
        "Load the demo organisation: users for every role, teams, and each app's demo data. "
        "Idempotent: running it again changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even with DEBUG off (demo users have a known password).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"] and not getattr(settings, "TESTING", False):
            raise CommandError(
                "Demo users have a known password; refusing with DEBUG off. Use --force to seed anyway."
            )
        sync_role_groups()
        password = settings.STEWARD_DEMO_PASSWORD
        with audit_context(channel="command:seed_demo"), transaction.atomic():
            users = {}
            for username, first, last, roles, _teams in DEMO_USERS:
                users[username] = user_ensure(
                    actor="seed_demo",
                    username=username,
                    first_name=first,
                    last_name=last,
                    email=f"{username}@example.com",
                    roles=roles,
                    password=password,
                    is_superuser=username == "admin",
                )
            users["ci-bot"] = user_ensure(
                actor="seed_demo", username="ci-bot", roles=[VIEWER], is_service_account=True
            )
            teams = {}
            for slug, name in DEMO_TEAMS.items():
                members = [users[u] for u, *_rest, t in DEMO_USERS if slug in t]
                teams[slug] = team_ensure(actor="seed_demo", slug=slug, name=name, members=members)
            modules = []
            for app in SEED_APPS:
                try:
                    modules.append(import_module(f"{app}.seed"))
                except ModuleNotFoundError:
                    continue
            for module in modules:
                if hasattr(module, "seed_reference"):
                    module.seed_reference()
            for module in modules:
                module.seed(users=users, teams=teams)
        self.stdout.write(
            self.style.SUCCESS(
                "Demo data ready. Sign in as admin, ciso, owner, auditor or viewer with password "
                f"'{password}' (set STEWARD_DEMO_PASSWORD to change it)."
            )
        )
