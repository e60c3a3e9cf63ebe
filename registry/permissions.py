"""Who may do what in the registry. Services and selectors ask here; views never decide.

- **Read**: every user with a role (viewer, auditor, model owner, approver, admin) reads the
  whole registry. A user without any role reads nothing.
- **Edit** a model (change it, add versions and evals, submit, deprecate): admins, and model
  owners who are members of the model's owner team. Model owners create models only for
  their own teams.
- **Decide** (approve, reject, request changes, revoke, override the risk grade): admins, and
  approvers, with one scoping rule: when anyone holds the django-guardian object permission
  ``registry.approve_aimodel`` on a model (directly or through a group), only approvers who
  hold it decide that model; models without such grants are decided by every approver.
  Grant it per model, or for all models of a team with ``approver_scope_grant``.
- **Separation of duties**: whoever requested an approval never decides it, whatever their
  roles, admins included (checked in ``registry.services.workflow``).
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from guardian.models import GroupObjectPermission, UserObjectPermission

from accounts.roles import ADMIN, APPROVER, MODEL_OWNER, role_names, user_has_role
from registry.models import AIModel

APPROVE_CODENAME = "approve_aimodel"


def can_read(user: Any) -> bool:
    return bool(role_names(user))


def team_ids(user: Any) -> frozenset[int]:
    cached = getattr(user, "_steward_team_ids", None)
    if cached is None:
        cached = (
            frozenset(user.teams.values_list("pk", flat=True))
            if user.is_authenticated
            else frozenset()
        )
        setattr(user, "_steward_team_ids", cached)  # noqa: B010 - per-request cache
    return frozenset(cached)


def can_create_model_for(user: Any, team_id: int | None) -> bool:
    if user_has_role(user, ADMIN):
        return True
    return user_has_role(user, MODEL_OWNER) and team_id is not None and team_id in team_ids(user)


def can_edit(user: Any, model: AIModel) -> bool:
    if user_has_role(user, ADMIN):
        return True
    return (
        user_has_role(user, MODEL_OWNER)
        and model.owner_team_id is not None
        and model.owner_team_id in team_ids(user)
    )


def _content_type_id() -> int:
    return ContentType.objects.get_for_model(AIModel).pk


def scoped_model_ids() -> set[int]:
    """Models that have at least one approver grant (two queries)."""
    ct = _content_type_id()
    users = UserObjectPermission.objects.filter(
        content_type_id=ct, permission__codename=APPROVE_CODENAME
    ).values_list("object_pk", flat=True)
    groups = GroupObjectPermission.objects.filter(
        content_type_id=ct, permission__codename=APPROVE_CODENAME
    ).values_list("object_pk", flat=True)
    return {int(pk) for pk in [*users, *groups]}


def granted_model_ids(user: Any) -> set[int]:
    """Models on which ``user`` holds the approver grant, directly or through a group."""
    ct = _content_type_id()
    users = UserObjectPermission.objects.filter(
        content_type_id=ct, permission__codename=APPROVE_CODENAME, user_id=user.pk
    ).values_list("object_pk", flat=True)
    groups = GroupObjectPermission.objects.filter(
        content_type_id=ct,
        permission__codename=APPROVE_CODENAME,
        group__in=user.groups.all(),
    ).values_list("object_pk", flat=True)
    return {int(pk) for pk in [*users, *groups]}


class DecisionRights:
    """Answers ``may_decide(model)`` for one user with a fixed number of queries, so the
    approval queue does not ask the database once per row."""

    def __init__(self, user: Any) -> None:
        self.user = user
        self.is_admin = user_has_role(user, ADMIN)
        self.is_approver = user_has_role(user, APPROVER)
        if self.is_approver and not self.is_admin:
            self.scoped = scoped_model_ids()
            self.granted = granted_model_ids(user) if self.scoped else set()
        else:
            self.scoped, self.granted = set(), set()

    def may_decide(self, model: AIModel | int) -> bool:
        model_id = model if isinstance(model, int) else model.pk
        if self.is_admin:
            return True
        if not self.is_approver:
            return False
        if model_id in self.scoped:
            return model_id in self.granted
        return True


def can_decide(user: Any, model: AIModel) -> bool:
    return DecisionRights(user).may_decide(model)
