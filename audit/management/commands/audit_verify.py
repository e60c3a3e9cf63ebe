from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.checkpoints import checkpoint_file_problem
from audit.context import audit_context
from audit.verification import verify_chain


class Command(BaseCommand):
    help = (
        "Verify the audit chain: sequence, links and hashes of every event, and every signed "
        "checkpoint (the database's, the published directory's and any --checkpoint FILE kept "
        "elsewhere). Exit status 0 when intact, 1 when broken, 2 on a usage error (a "
        "--checkpoint path that does not exist or is not a checkpoint file)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--checkpoint",
            action="append",
            default=[],
            metavar="FILE",
            help="A checkpoint document held outside the database, or a page of "
            "/api/v1/audit/checkpoints/ saved as is (repeatable; a directory adds every "
            "checkpoint-*.json in it).",
        )
        parser.add_argument(
            "--no-published",
            action="store_true",
            help="Ignore the published checkpoint directory.",
        )
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        files: list[Path] = []
        for name in options["checkpoint"]:
            path = Path(name)
            if path.is_dir():
                files += sorted(path.glob("checkpoint-*.json"))
            elif path.is_file():
                files.append(path)
            else:
                raise CommandError(f"No such checkpoint file: {name}", returncode=2)
        for path in files:
            # A copy that is no checkpoint file at all (bad JSON, another document) is the
            # caller's mistake: saying "FAILED at seq 0" would report a broken chain.
            problem = checkpoint_file_problem(path)
            if problem:
                raise CommandError(f"{path} is not a checkpoint file: {problem}", returncode=2)
        with audit_context(channel="command:audit_verify"):
            report = verify_chain(checkpoint_files=files, use_published=not options["no_published"])
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2, default=str))
        elif report.ok:
            self.stdout.write(self.style.SUCCESS(report.summary()))
        else:
            self.stdout.write(self.style.ERROR(report.summary()))
        if not report.ok:
            raise SystemExit(1)
