from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

# (label, url name, path prefix that marks it current). Entries whose view does not exist
# yet are left out, so the navigation grows with the apps.
NAVIGATION = [
    ("Dashboard", "dashboard", "/"),
    ("Models", "registry:model-list", "/models"),
    ("Approvals", "registry:approval-queue", "/approvals"),
    ("Policies", "policy:policy-list", "/policies"),
    ("Deployments", "policy:deployment-list", "/deployments"),
    ("Provenance", "provenance:job-list", "/provenance"),
    ("Audit", "audit:event-list", "/audit"),
    ("API tokens", "accounts:tokens", "/settings"),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    items = []
    for label, name, prefix in NAVIGATION:
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        current = request.path == "/" if prefix == "/" else request.path.startswith(prefix)
        items.append({"label": label, "url": url, "current": current})
    return {"nav_items": items}
