from __future__ import annotations

from typing import Any

from django.urls import reverse

from audit import selectors


def panels(user: Any) -> list[dict[str, Any]]:
    if not selectors.can_read_audit(user):
        return []
    status = selectors.chain_status()
    check = status["verification"]
    if check is None:
        tone, text = "warn", "Not verified yet."
    elif check.ok:
        tone, text = "good", f"Verified seq {check.first_seq or 0}–{check.last_seq or 0}."
    else:
        tone, text = "bad", f"Broken at seq {check.broken_seq}: {check.reason}"
    checkpoint = status["checkpoint"]
    return [
        {
            "title": "Audit trail",
            "value": status["head_seq"] or 0,
            "text": text
            + (f" Last checkpoint at seq {checkpoint.seq}." if checkpoint else " No checkpoint."),
            "items": [],
            "url": reverse("audit:event-list"),
            "link_text": "Open the audit trail",
            "tone": tone,
        }
    ]
