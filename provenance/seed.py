"""Demo data for provenance: the development signing credential (so signing works on a
fresh `make run`). Idempotent: a second run finds the credential and records nothing."""

from __future__ import annotations

from typing import Any

from provenance.bootstrap import ensure_dev_credential


def seed(*, users: dict[str, Any], teams: dict[str, Any]) -> None:
    ensure_dev_credential()
