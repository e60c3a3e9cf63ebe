"""What the permission matrix's rows are made of (see tests/test_permission_matrix.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from django.utils import timezone

from accounts.roles import ADMIN, APPROVER, AUDITOR, MODEL_OWNER, ROLES
from tests.matrix.builders import Ctx

ALL_ROLES = frozenset(ROLES)
READERS = ALL_ROLES  # roles.py: every role reads the registry, policies and deployments
OWNERS = frozenset({ADMIN, MODEL_OWNER})
DECIDERS = frozenset({ADMIN, APPROVER})
AUDITORS = frozenset({ADMIN, AUDITOR})  # audit/roles.py: nobody else reads the trail
WAIVER_REQUESTERS = frozenset({ADMIN, APPROVER, MODEL_OWNER})
DEPRECATORS = frozenset({ADMIN, APPROVER, MODEL_OWNER})  # the model's owners or a decider
JOB_READERS = frozenset({ADMIN, APPROVER, AUDITOR, MODEL_OWNER})  # owners: their own jobs
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

REG_READ, REG_WRITE = "registry:read", "registry:write"
POLICY_READ = ("policy:check", "policy:write")
POLICY_CHECK, POLICY_WRITE = "policy:check", "policy:write"
SIGN = "provenance:sign"
AUDIT_READ, AUDIT_EXPORT = "audit:read", "audit:export"

Builder = Callable[[Ctx], dict[str, Any]]


def no_kwargs(ctx: Ctx) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Access:
    ok: int
    roles: frozenset[str] = ALL_ROLES
    scope: str | tuple[str, ...] | None = None
    denied: int = 403
    anonymous: int | None = None
    body: Builder | None = None
    query: Builder | None = None
    multipart: bool = False
    overrides: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    kind: Literal["ui", "api", "public"]
    methods: Mapping[str, Access]
    kwargs: Builder = no_kwargs
    url: str | None = None  # the URL name when the key names a variant ("name[action]")


def url_name(key: str, route: Route) -> str:
    return route.url or key


def _in(days: int) -> str:
    return (timezone.now() + timedelta(days=days)).isoformat()


def reg(ok: int = 200, roles: frozenset[str] | None = None, **kw: Any) -> Access:
    """A registry API method: every role reads (registry:read); writes name their roles."""
    if roles is None:
        return Access(ok, READERS, REG_READ, **kw)
    return Access(ok, roles, REG_WRITE, **kw)


def pol(ok: int = 200, roles: frozenset[str] | None = None, **kw: Any) -> Access:
    """A policy API method: every role reads (policy:check or policy:write); writes name
    their roles and need policy:write."""
    if roles is None:
        return Access(ok, READERS, POLICY_READ, **kw)
    return Access(ok, roles, POLICY_WRITE, **kw)
