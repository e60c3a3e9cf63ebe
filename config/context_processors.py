from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse


def _may_read_audit(user: Any) -> bool:
    from audit.selectors import can_read_audit

    return can_read_audit(user)


# (label, url name, path prefix that marks it current, who sees it). Entries whose view does
# not exist yet are left out, so the navigation grows with the apps; an entry whose page would
# answer 403 to this user is left out too, rather than offered as a dead end.
NAVIGATION: list[tuple[str, str, str, Callable[[Any], bool] | None]] = [
    ("Dashboard", "dashboard", "/", None),
    ("Models", "registry:model-list", "/models", None),
    ("Approvals", "registry:approval-queue", "/approvals", None),
    ("Policies", "policy:policy-list", "/policies", None),
    ("Deployments", "policy:deployment-list", "/deployments", None),
    ("Provenance", "provenance:job-list", "/provenance", None),
    ("Audit", "audit:event-list", "/audit", _may_read_audit),
    ("API tokens", "accounts:tokens", "/settings", None),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    items = []
    user = getattr(request, "user", None)
    for label, name, prefix, visible_to in NAVIGATION:
        if visible_to is not None and not visible_to(user):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        current = request.path == "/" if prefix == "/" else request.path.startswith(prefix)
        items.append({"label": label, "url": url, "current": current})
    return {"nav_items": items}
