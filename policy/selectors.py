"""Reads for the policy app, filtered by who asks in one place.

Every role reads policies, deployments, waivers and decisions (the issue's viewer role
included); a user without any role sees nothing."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts.models import Team
from accounts.roles import ADMIN, role_names, user_has_role
from config.exceptions import NotFound
from config.ids import parse_id
from policy.models import (
    DataClass,
    Decision,
    Deployment,
    Environment,
    Jurisdiction,
    Policy,
    PolicyVersion,
    Region,
    Rule,
    UseCase,
    Waiver,
)


def _can_read(user: Any) -> bool:
    return bool(role_names(user))


def policies_visible_to(user: Any) -> QuerySet[Policy]:
    qs = Policy.objects.select_related("active_version")
    return qs if _can_read(user) else qs.none()


def policy_get(user: Any, slug: str) -> Policy:
    policy = policies_visible_to(user).filter(slug=slug).first()
    if policy is None:
        raise NotFound(f"No policy {slug!r}.")
    return policy


def version_get(user: Any, slug: str, number: int) -> PolicyVersion:
    version = (
        PolicyVersion.objects.select_related("policy", "created_by", "published_by")
        .filter(policy__in=policies_visible_to(user), policy__slug=slug, number=number)
        .first()
    )
    if version is None:
        raise NotFound(f"No version {number} of policy {slug!r}.")
    return version


def rule_get(user: Any, slug: str, number: int, rule_id: str) -> Rule:
    version = version_get(user, slug, number)
    rule = version.rules.filter(rule_id=rule_id).select_related("version__policy").first()
    if rule is None:
        raise NotFound(f"No rule {rule_id!r} in {version}.")
    return rule


def deployments_visible_to(user: Any) -> QuerySet[Deployment]:
    qs = Deployment.objects.select_related(
        "model_version__model", "region", "use_case", "owner", "team", "last_decision"
    )
    return qs if _can_read(user) else qs.none()


def deployment_get(user: Any, reference: str) -> Deployment:
    qs = deployments_visible_to(user)
    found = qs.filter(slug=reference).first()
    if found is None and (pk := parse_id(reference)) is not None:
        found = qs.filter(pk=pk).first()
    if found is None:
        raise NotFound(f"No deployment {reference!r}.")
    return found


def decisions_visible_to(user: Any) -> QuerySet[Decision]:
    qs = Decision.objects.select_related("deployment", "actor")
    return qs if _can_read(user) else qs.none()


def decision_get(user: Any, decision_id: str) -> Decision:
    found = decisions_visible_to(user).filter(decision_id=decision_id).first()
    if found is None:
        raise NotFound(f"No decision {decision_id!r}.")
    return found


def waivers_visible_to(user: Any) -> QuerySet[Waiver]:
    qs = Waiver.objects.select_related(
        "policy", "deployment", "model_version__model", "requested_by", "decided_by"
    )
    return qs if _can_read(user) else qs.none()


def waiver_get(user: Any, pk: int) -> Waiver:
    found = waivers_visible_to(user).filter(pk=pk).first()
    if found is None:
        raise NotFound(f"No waiver {pk}.")
    return found


def regions() -> QuerySet[Region]:
    return Region.objects.all()


def use_cases() -> QuerySet[UseCase]:
    return UseCase.objects.all()


def teams_assignable_by(user: Any) -> QuerySet[Team]:
    """The teams ``user`` may give a deployment: their own; every team for an admin."""
    if user_has_role(user, ADMIN):
        return Team.objects.all()
    if not getattr(user, "pk", None):
        return Team.objects.none()
    return Team.objects.filter(members=user)


def condition_choices(key: str) -> list[tuple[str, str]]:
    """What an approval condition ``key`` may name: the deployment facts the approval rules
    match it against. Handed to ``registry.conditions`` at start-up (see policy/apps.py)."""
    if key == "environments":
        return [(str(v), str(label)) for v, label in Environment.choices]
    if key == "jurisdictions":
        return [(str(v), str(label)) for v, label in Jurisdiction.choices]
    if key == "data_classes":
        return [(str(v), str(label)) for v, label in DataClass.choices]
    if key == "regions":
        return list(Region.objects.order_by("code").values_list("code", "name"))
    if key == "use_cases":
        return list(UseCase.objects.order_by("slug").values_list("slug", "name"))
    raise KeyError(key)
