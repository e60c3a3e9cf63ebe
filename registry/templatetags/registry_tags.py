from __future__ import annotations

from typing import Any

from django import template

from registry.selectors import approval_status

register = template.Library()

_STATUS_TONE = {
    "approved": "good",
    "submitted": "info",
    "pending": "info",
    "draft": "muted",
    "changes_requested": "warn",
    "rejected": "bad",
    "revoked": "bad",
    "deprecated": "muted",
    "expired": "bad",
    "none": "muted",
}
_GRADE_TONE = {"low": "good", "medium": "info", "high": "warn", "critical": "bad"}


@register.filter
def status_tone(value: Any) -> str:
    return _STATUS_TONE.get(str(value), "muted")


@register.filter
def grade_tone(value: Any) -> str:
    return _GRADE_TONE.get(str(value), "muted")


@register.filter
def humanize_choice(value: Any) -> str:
    return str(value or "—").replace("_", " ")


@register.filter
def version_approval(version: Any) -> str:
    # "none" is the policy facts' word for "never submitted"; people read "draft".
    status = approval_status(version)
    return "draft" if status == "none" else status


@register.filter
def factor_value(value: Any) -> str:
    """A risk factor's value as people read it: lists joined, nothing as a dash."""
    if value in (None, "", [], ()):
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


@register.filter
def nice_number(value: Any) -> str:
    if value is None:
        return "—"
    number = float(value)
    for bound, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if number >= bound:
            return f"{number / bound:.1f}{suffix}".replace(".0", "")
    return f"{number:g}"
