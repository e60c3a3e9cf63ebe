"""Roles are Django groups with a documented set of permissions.

| role          | who                    | may                                                        |
|---------------|------------------------|------------------------------------------------------------|
| `admin`       | platform administrators | everything below, plus users, teams and credentials        |
| `approver`    | CISO / risk             | decide model approvals and waivers; read everything        |
| `model_owner` | ML / platform teams     | register and edit their own models, deployments, signing   |
| `auditor`     | compliance              | read everything, export and verify the audit trail         |
| `viewer`      | anyone with an account  | read the registry, policies and deployments                |

Each app lists what its roles grant in its own ``roles.py`` as ``ROLE_PERMISSIONS``
(``{"approver": ["registry.approve_modelversion", ...]}``); ``sync_role_groups`` merges them
into the groups after every migrate. No role ever lifts separation of duties: the services
check that the requester and the approver differ whatever the approver's roles.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accounts.models import User

ADMIN = "admin"
APPROVER = "approver"
MODEL_OWNER = "model_owner"
AUDITOR = "auditor"
VIEWER = "viewer"
ROLES: dict[str, str] = {
    ADMIN: "Administers users, teams, tokens and signing credentials; holds every permission.",
    APPROVER: "CISO / risk approver: decides model approvals and waivers.",
    MODEL_OWNER: "Registers and maintains models, deployments and signing jobs of their teams.",
    AUDITOR: "Compliance: reads everything, exports and verifies the audit trail.",
    VIEWER: "Reads the registry, policies and deployments.",
}

# Apps whose roles.py contributes permissions.
_ROLE_MODULES = ["accounts", "registry", "policy", "provenance", "audit"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    ADMIN: [
        "accounts.view_user",
        "accounts.add_user",
        "accounts.change_user",
        "accounts.view_team",
        "accounts.add_team",
        "accounts.change_team",
        "accounts.view_apitoken",
        "accounts.manage_all_tokens",
    ],
}


def collected_role_permissions() -> dict[str, set[str]]:
    merged: dict[str, set[str]] = {role: set() for role in ROLES}
    for module_name in _ROLE_MODULES:
        try:
            module = import_module(f"{module_name}.roles")
        except ModuleNotFoundError:
            continue
        for role, perms in getattr(module, "ROLE_PERMISSIONS", {}).items():
            merged.setdefault(role, set()).update(perms)
    # The admin role holds every permission any role holds.
    merged[ADMIN] = set().union(*merged.values())
    return merged


def sync_role_groups(using: str = "default") -> None:
    from django.contrib.auth.models import Group, Permission

    wanted = collected_role_permissions()
    all_codes = set().union(*wanted.values())
    perms: dict[str, Any] = {}
    for perm in Permission.objects.using(using).select_related("content_type"):
        code = f"{perm.content_type.app_label}.{perm.codename}"
        if code in all_codes:
            perms[code] = perm
    for role, codes in wanted.items():
        group, _ = Group.objects.using(using).get_or_create(name=role)
        group.permissions.set([perms[code] for code in sorted(codes) if code in perms])


def role_names(user: User | Any) -> frozenset[str]:
    """The user's roles, cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False):
        return frozenset()
    cached = getattr(user, "_steward_roles", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        if user.is_superuser:
            names.add(ADMIN)
        cached = frozenset(names & ROLES.keys())
        setattr(user, "_steward_roles", cached)  # noqa: B010 - per-request cache on the instance
    return frozenset(cached)


def user_has_role(user: User | Any, *roles: str) -> bool:
    return bool(role_names(user) & set(roles))
