"""API permission checks shared by every endpoint."""

from __future__ import annotations

from typing import Any

from rest_framework import permissions
from rest_framework.request import Request

from accounts.models import ApiToken

SAFE = ("GET", "HEAD", "OPTIONS")


def required_scope(view: Any, request: Request) -> str | None:
    """The scope a view needs for this request.

    Views declare ``required_scopes = {"GET": "registry:read", "POST": "registry:write"}``
    (``"*"`` for any method), or ``scope_prefix = "registry"`` for the usual read/write split,
    or override ``get_required_scope(request)``.
    """
    getter = getattr(view, "get_required_scope", None)
    if callable(getter):
        return getter(request)  # type: ignore[no-any-return]
    mapping: dict[str, str] | None = getattr(view, "required_scopes", None)
    if mapping:
        # HEAD is served by the GET handler, so it needs what GET needs.
        method = "GET" if request.method == "HEAD" else request.method or ""
        return mapping.get(method, mapping.get("*"))
    prefix: str | None = getattr(view, "scope_prefix", None)
    if prefix:
        return f"{prefix}:read" if request.method in SAFE else f"{prefix}:write"
    return None


def _serves(view: Any, request: Request) -> bool:
    method = (request.method or "").lower()
    return method in view.http_method_names and hasattr(view, method)


class TokenHasScope(permissions.BasePermission):
    """A request made with an API token needs the view's scope; fails closed.

    Session (browser) requests are not scoped: roles and object permissions decide for them,
    exactly as for tokens, in the selectors and services.
    """

    message = "This API token lacks the scope this endpoint needs."

    def has_permission(self, request: Request, view: Any) -> bool:
        if not isinstance(request.auth, ApiToken):
            return True
        if not _serves(view, request):
            # The view answers 405 itself; a scope for a method it lacks would make it 403.
            return True
        scope = required_scope(view, request)
        if scope is None:
            self.message = "This endpoint cannot be used with an API token."
            return False
        if not request.auth.has_scope(scope):
            self.message = f"This API token lacks the '{scope}' scope."
            return False
        return True


class HasRole(permissions.BasePermission):
    """``permission_classes = [..., HasRole.of("auditor", "admin")]``."""

    roles: tuple[str, ...] = ()
    message = "Your role does not allow this."

    @classmethod
    def of(cls, *roles: str) -> type[HasRole]:
        return type("HasRole_" + "_".join(roles), (cls,), {"roles": roles})

    def has_permission(self, request: Request, view: Any) -> bool:
        from accounts.roles import user_has_role

        return user_has_role(request.user, *self.roles)
