"""Deployments: registered, evaluated on every change, re-evaluated when the world changes
(a policy published, an approval expired or revoked, a waiver granted or lapsed)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import Team, User
from accounts.roles import ADMIN, user_has_role
from audit.services import record_event
from config.exceptions import Conflict, DomainError, NotAllowed
from config.jobs import claim_queued, enqueue, requeue_stuck
from policy.evaluation import active_policies
from policy.facts import (
    deployment_queryset,
    facts_for_deployment,
    find_region,
    find_use_case,
    validate_data_classes,
)
from policy.models import (
    Decision,
    Deployment,
    DeploymentStatus,
    Environment,
    Hosting,
    Jurisdiction,
    ReevaluationJob,
    Verdict,
    Waiver,
    WaiverStatus,
)
from policy.roles import can_create_deployments
from policy.selectors import teams_assignable_by
from policy.services.decisions import decide, record_decision
from registry.models import ModelVersion

logger = logging.getLogger(__name__)

# Far beyond any audience, and within the integers JSON (and so the audit chain's
# canonical form, RFC 8785) represents exactly: a larger value made recording the change fail.
MAX_EXPECTED_MAU = 10**15

EDITABLE = (
    "name",
    "model_version",
    "environment",
    "region",
    "hosting",
    "use_case",
    "data_classes",
    "data_subject_region",
    "expected_mau",
    "commercial",
    "team",
)


def can_edit_deployment(user: User, deployment: Deployment) -> bool:
    if user_has_role(user, ADMIN):
        return True
    if not can_create_deployments(user):
        return False
    if deployment.owner_id == user.pk:
        return True
    return deployment.team_id is not None and user.teams.filter(pk=deployment.team_id).exists()


def resolve_deployment_team(actor: User, team: Team | str | None) -> Team | None:
    """The team a deployment of ``actor``'s belongs to: the one they name (a slug or a Team),
    which must be one of theirs unless they are an admin; when they name none, their only
    team (none if they have none). Someone in several teams must choose: picking one for
    them (the first by name) filed deployments under a team that may not own them."""
    if team is None or team == "":
        mine = list(actor.teams.order_by("slug")[:2]) if actor.pk else []
        if len(mine) > 1:
            slugs = ", ".join(actor.teams.order_by("slug").values_list("slug", flat=True))
            raise DomainError(
                "You belong to several teams: name the deployment's team.",
                fields={"team": [f"Required: one of {slugs}."]},
            )
        return mine[0] if mine else None
    slug = team.slug if isinstance(team, Team) else str(team)
    found = teams_assignable_by(actor).filter(slug=slug).first()
    if found is None:
        # The same answer for a team that does not exist and one the actor is not in:
        # a model owner learns nothing about other teams.
        raise DomainError(
            f"You are not a member of team {slug!r}.",
            fields={"team": [f"Not one of your teams: {slug!r}."]},
        )
    return found


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    out = dict(fields)
    if "environment" in out and out["environment"] not in Environment.values:
        raise DomainError("Unknown environment.", fields={"environment": ["dev, staging or prod."]})
    if "hosting" in out and out["hosting"] not in Hosting.values:
        raise DomainError(
            "Unknown hosting.", fields={"hosting": [f"One of {', '.join(Hosting.values)}."]}
        )
    if "data_subject_region" in out and out["data_subject_region"] not in Jurisdiction.values:
        raise DomainError("Unknown jurisdiction.", fields={"data_subject_region": ["Unknown."]})
    if isinstance(out.get("region"), str):
        out["region"] = find_region(out["region"])
    if isinstance(out.get("use_case"), str):
        found = find_use_case(out["use_case"])
        if found is None:
            raise DomainError("A deployment needs a use case.", fields={"use_case": ["Required."]})
        out["use_case"] = found
    if "data_classes" in out:
        out["data_classes"] = validate_data_classes(out["data_classes"] or [], "data_classes")
    if out.get("expected_mau") is not None and out["expected_mau"] < 0:
        raise DomainError("Must not be negative.", fields={"expected_mau": ["Must be >= 0."]})
    if out.get("expected_mau") is not None and out["expected_mau"] > MAX_EXPECTED_MAU:
        raise DomainError(
            f"expected_mau must be at most {MAX_EXPECTED_MAU:,}.",
            fields={"expected_mau": [f"At most {MAX_EXPECTED_MAU:,}."]},
        )
    return out


def _snapshot(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value)
    return value


@transaction.atomic
def deployment_create(
    *,
    actor: User,
    slug: str,
    model_version: ModelVersion,
    environment: str,
    region: Any,
    hosting: str,
    use_case: Any,
    data_classes: list[str] | None = None,
    name: str = "",
    data_subject_region: str = Jurisdiction.EU,
    expected_mau: int | None = None,
    commercial: bool = True,
    team: Team | str | None = None,
    owner: User | None = None,
    source: str = "deployment",
) -> Deployment:
    """Register a deployment and evaluate it at once (blocked if denied).

    ``team`` (a Team or its slug) must be one of the actor's teams (any team for an admin);
    without it, the actor's only team, and a 400 when they belong to several."""
    if not can_create_deployments(actor):
        raise NotAllowed("Only model owners and admins can register deployments.")
    team = resolve_deployment_team(actor, team)
    from policy.services.policies import _slug

    slug = _slug(slug, "slug")
    if slug.isdigit():
        # A deployment is named by id or slug (API paths, checks, waivers): a numeric slug
        # would shadow another deployment's id, e.g. turn another team's CI check into its own.
        raise DomainError(
            "slug must contain a letter: a number would read as a deployment id.",
            fields={"slug": ["Not only digits."]},
        )
    if Deployment.objects.filter(slug=slug).exists():
        raise Conflict(f"A deployment {slug!r} exists.", fields={"slug": ["Already in use."]})
    fields = _clean(
        {
            "environment": environment,
            "region": region,
            "hosting": hosting,
            "use_case": use_case,
            "data_classes": data_classes or [],
            "data_subject_region": data_subject_region,
            "expected_mau": expected_mau,
        }
    )
    try:
        with transaction.atomic():
            deployment = Deployment.objects.create(
                slug=slug,
                name=name,
                model_version=model_version,
                commercial=commercial,
                team=team,
                owner=owner or actor,
                **fields,
            )
    except IntegrityError as exc:  # a concurrent create of the same slug (a CI retry)
        raise Conflict(
            f"A deployment {slug!r} exists.", fields={"slug": ["Already in use."]}
        ) from exc
    record_event(
        actor=actor,
        action="deployment.created",
        target=deployment,
        changes={
            "model_version": str(model_version),
            **{k: _snapshot(v) for k, v in fields.items()},
        },
    )
    deployment_evaluate(actor=actor, deployment=deployment, source=source)
    deployment.refresh_from_db()
    return deployment


@transaction.atomic
def deployment_update(*, actor: User, deployment: Deployment, **changes: Any) -> Deployment:
    if not can_edit_deployment(actor, deployment):
        raise NotAllowed("You cannot edit this deployment.")
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise DomainError(f"Cannot change {', '.join(sorted(unknown))}.")
    if changes.get("team") is not None:
        changes["team"] = resolve_deployment_team(actor, changes["team"])
    cleaned = _clean({k: v for k, v in changes.items() if v is not None or k == "expected_mau"})
    diff: dict[str, Any] = {}
    for key, value in cleaned.items():
        current = getattr(deployment, key)
        if current != value:
            diff[key] = [_snapshot(current), _snapshot(value)]
            setattr(deployment, key, value)
    if not diff:
        return deployment
    deployment.save()
    record_event(actor=actor, action="deployment.updated", target=deployment, changes=diff)
    deployment_evaluate(actor=actor, deployment=deployment, source="deployment")
    deployment.refresh_from_db()
    return deployment


def _apply_decision(
    *, actor: Any, deployment: Deployment, decision: Decision, now: datetime
) -> str | None:
    """Move the deployment's status with its decision; returns "blocked"/"unblocked"/None."""
    blocked = decision.verdict == Verdict.DENY
    new_status = DeploymentStatus.BLOCKED if blocked else DeploymentStatus.ACTIVE
    change = None
    update: dict[str, Any] = {"last_decision": decision, "last_evaluated_at": now}
    if new_status != deployment.status:
        change = "blocked" if blocked else "unblocked"
        update["status"] = new_status
        update["blocked_at"] = now if blocked else None
        record_event(
            actor=actor,
            action=f"deployment.{change}",
            target=deployment,
            changes={
                "decision_id": decision.decision_id,
                "violations": [f"{v['policy']}/{v['rule']}" for v in decision.violations],
            },
        )
    Deployment.objects.filter(pk=deployment.pk).update(**update)
    for key, value in update.items():
        setattr(deployment, key, value)
    return change


@transaction.atomic
def deployment_evaluate(
    *, actor: Any, deployment: Deployment, source: str = "deployment", policies: Any = None
) -> Decision:
    now = timezone.now()
    loaded = deployment_queryset().get(pk=deployment.pk)
    facts = facts_for_deployment(loaded, now)
    outcome = decide(facts, policies, now)
    decision = record_decision(actor=actor, facts=facts, outcome=outcome, source=source, now=now)
    _apply_decision(actor=actor, deployment=loaded, decision=decision, now=now)
    deployment.status = loaded.status
    return decision


# -- re-evaluation jobs -------------------------------------------------------------------


def reevaluation_request(*, reason: str, version_id: int | None = None) -> ReevaluationJob:
    """Queue a re-evaluation (of one version's deployments, or of all) for a worker."""
    from policy.tasks import reevaluate_deployments

    with transaction.atomic():
        job = ReevaluationJob.objects.create(reason=reason[:200], model_version_id=version_id)
        transaction.on_commit(lambda: enqueue(reevaluate_deployments, job.pk))
    return job


def reevaluate_deployments_for_version(version_id: int) -> ReevaluationJob:
    """For the registry: a version's approval was revoked, expired or changed."""
    return reevaluation_request(
        reason=f"approval of model version {version_id} changed", version_id=version_id
    )


def reevaluate(
    deployments: Any, *, actor: Any = None, source: str = "reevaluation"
) -> tuple[int, int, int]:
    """Evaluate each deployment (each in its own transaction). (evaluated, blocked, unblocked)."""
    policies = active_policies()
    evaluated = blocked = unblocked = 0
    for deployment in deployments:
        now = timezone.now()
        with transaction.atomic():
            facts = facts_for_deployment(deployment, now)
            outcome = decide(facts, policies, now)
            decision = record_decision(
                actor=actor, facts=facts, outcome=outcome, source=source, now=now
            )
            change = _apply_decision(actor=actor, deployment=deployment, decision=decision, now=now)
        evaluated += 1
        blocked += change == "blocked"
        unblocked += change == "unblocked"
    return evaluated, blocked, unblocked


def _reevaluation_succeeded(
    job: ReevaluationJob, evaluated: int, blocked: int, unblocked: int
) -> ReevaluationJob:
    ReevaluationJob.objects.filter(pk=job.pk).update(
        status=ReevaluationJob.Status.SUCCEEDED,
        finished_at=timezone.now(),
        evaluated=evaluated,
        newly_blocked=blocked,
        newly_allowed=unblocked,
    )
    job.refresh_from_db()
    return job


def reevaluation_run(*, job_id: int) -> ReevaluationJob | None:
    """Run a queued job exactly once: a redelivered task finds it claimed."""
    if not claim_queued(ReevaluationJob, job_id):
        logger.info("re-evaluation job %s already claimed or missing", job_id)
        return ReevaluationJob.objects.filter(pk=job_id).first()
    job = ReevaluationJob.objects.get(pk=job_id)
    qs = deployment_queryset().order_by("pk")
    if job.model_version_id is not None:
        qs = qs.filter(model_version_id=job.model_version_id)
    try:
        evaluated, blocked, unblocked = reevaluate(qs.iterator(chunk_size=200))
    except Exception as exc:
        logger.exception("re-evaluation job %s failed", job_id)
        ReevaluationJob.objects.filter(pk=job_id).update(
            status=ReevaluationJob.Status.FAILED, finished_at=timezone.now(), error=str(exc)[:2000]
        )
        raise
    return _reevaluation_succeeded(job, evaluated, blocked, unblocked)


def stale_deployments(now: datetime | None = None) -> list[Deployment]:
    """Deployments whose facts the clock changed since their last evaluation: their
    version's approval expired, or a waiver they relied on lapsed."""
    now = now or timezone.now()
    lapsed_for_deployment: dict[int, datetime] = {}
    lapsed_for_version: dict[int, datetime] = {}
    lapsed = Waiver.objects.filter(status=WaiverStatus.APPROVED, expires_at__lte=now)
    for deployment_id, version_id, expires_at in lapsed.values_list(
        "deployment_id", "model_version_id", "expires_at"
    ):
        for key, bucket in (
            (deployment_id, lapsed_for_deployment),
            (version_id, lapsed_for_version),
        ):
            if key is not None and (key not in bucket or bucket[key] < expires_at):
                bucket[key] = expires_at
    candidates = deployment_queryset().filter(
        Q(last_evaluated_at__isnull=True)
        | Q(
            model_version__current_approval__expires_at__lte=now,
            model_version__current_approval__expires_at__gt=F("last_evaluated_at"),
        )
        | Q(pk__in=list(lapsed_for_deployment))
        | Q(model_version_id__in=list(lapsed_for_version))
    )
    due: list[Deployment] = []
    for deployment in candidates:
        last = deployment.last_evaluated_at
        approval = deployment.model_version.current_approval
        expiries = [
            lapsed_for_deployment.get(deployment.pk),
            lapsed_for_version.get(deployment.model_version_id),
            approval.expires_at if approval is not None else None,
        ]
        if last is None or any(e is not None and last < e <= now for e in expiries):
            due.append(deployment)
    return due


def sweep_expired() -> ReevaluationJob | None:
    """Periodic: re-evaluate what the clock changed, so expiry needs nobody to act; also
    re-enqueue jobs whose enqueue failed (broker down)."""
    from policy.tasks import reevaluate_deployments

    requeue_stuck(ReevaluationJob, reevaluate_deployments)
    due = stale_deployments()
    if not due:
        return None
    job = ReevaluationJob.objects.create(
        reason="approval or waiver expired",
        status=ReevaluationJob.Status.RUNNING,
        started_at=timezone.now(),
        attempts=1,
    )
    return _reevaluation_succeeded(job, *reevaluate(due))
