"""Every read of the registry. Permission filtering happens here, once (see
registry.permissions); views, the API and other apps call these."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    When,
)
from django.utils import timezone

from config.exceptions import DomainError, NotFound
from registry import permissions
from registry.models import (
    CONDITION_KEYS,
    RISK_GRADE_ORDER,
    AIModel,
    Approval,
    Decision,
    EvalResult,
    License,
    ModelVersion,
    RiskAssessment,
    VersionStatus,
)

# A model's "current version" is its newest: by release date (unknown dates last), then
# creation. The list shows and filters on that version's status and risk grade.
VERSION_RECENCY: list[Any] = [F("release_date").desc(nulls_last=True), "-created_at", "-pk"]


def _grade_expression(prefix: str = "") -> Case:
    return Case(
        When(**{f"{prefix}risk__override_grade": ""}, then=F(f"{prefix}risk__computed_grade")),
        default=F(f"{prefix}risk__override_grade"),
        output_field=CharField(),
    )


def _annotate_current_version(qs: QuerySet[AIModel]) -> QuerySet[AIModel]:
    latest = ModelVersion.objects.filter(model=OuterRef("pk")).order_by(*VERSION_RECENCY)
    return qs.annotate(
        current_version_id=Subquery(latest.values("pk")[:1], output_field=IntegerField()),
        current_label=Subquery(latest.values("label")[:1], output_field=CharField()),
        current_status=Subquery(latest.values("status")[:1], output_field=CharField()),
        current_grade=Subquery(
            latest.annotate(grade=_grade_expression()).values("grade")[:1],
            output_field=CharField(),
        ),
        current_score=Subquery(latest.values("risk__score")[:1], output_field=IntegerField()),
        version_count=Count("versions", distinct=True),
    )


def models_visible_to(user: Any) -> QuerySet[AIModel]:
    """Every model the user may read, annotated with its current version's status and grade
    (a constant number of queries for any number of models)."""
    if not permissions.can_read(user):
        return AIModel.objects.none()
    qs = AIModel.objects.select_related("license", "owner_team", "base_model")
    return _annotate_current_version(qs).order_by("name", "pk")


def _version_prefetches() -> list[Any]:
    return [
        Prefetch("evals", queryset=EvalResult.objects.order_by("benchmark", "metric", "pk")),
        Prefetch(
            "approvals",
            queryset=Approval.objects.select_related(
                "requested_by", "decided_by", "revoked_by"
            ).order_by("-requested_at", "-pk"),
        ),
    ]


def model_detail(user: Any, slug: str) -> AIModel:
    """One model with its versions, their evals, risk and approval history (fixed queries)."""
    versions = (
        ModelVersion.objects.select_related("risk", "current_approval", "created_by")
        .prefetch_related(*_version_prefetches())
        .order_by(*VERSION_RECENCY)
    )
    model = (
        models_visible_to(user)
        .prefetch_related(Prefetch("versions", queryset=versions), "derivatives")
        .filter(slug=slug)
        .first()
    )
    if model is None:
        raise NotFound(f"No model '{slug}'.")
    return model


def versions_visible_to(user: Any) -> QuerySet[ModelVersion]:
    if not permissions.can_read(user):
        return ModelVersion.objects.none()
    return ModelVersion.objects.select_related(
        "model__license", "model__owner_team", "risk", "current_approval", "created_by"
    ).order_by("model__name", *VERSION_RECENCY)


def version_choices(user: Any) -> QuerySet[ModelVersion]:
    """Light rows for pickers (compare page)."""
    if not permissions.can_read(user):
        return ModelVersion.objects.none()
    return (
        ModelVersion.objects.select_related("model")
        .only("pk", "label", "status", "model__name", "model__slug")
        .order_by("model__name", *VERSION_RECENCY)
    )


def version_detail(user: Any, version_id: int) -> ModelVersion:
    version = (
        versions_visible_to(user)
        .prefetch_related(*_version_prefetches())
        .filter(pk=version_id)
        .first()
    )
    if version is None:
        raise NotFound(f"No model version {version_id}.")
    return version


def approval_queue(user: Any) -> QuerySet[ModelVersion]:
    """Versions waiting for a decision, oldest request first, with the pending request."""
    pending = Approval.objects.filter(decision=Decision.PENDING).select_related("requested_by")
    return (
        versions_visible_to(user)
        .filter(status=VersionStatus.SUBMITTED)
        .prefetch_related(
            Prefetch("approvals", queryset=pending, to_attr="pending_approvals"),
            Prefetch("evals", queryset=EvalResult.objects.order_by("benchmark", "metric")),
        )
        .order_by("updated_at", "pk")
    )


def recent_decisions(user: Any, limit: int = 20) -> QuerySet[Approval]:
    if not permissions.can_read(user):
        return Approval.objects.none()
    return (
        Approval.objects.exclude(decision=Decision.PENDING)
        .select_related("version__model", "requested_by", "decided_by")
        .order_by("-decided_at", "-pk")[:limit]
    )


def versions_for_compare(user: Any, ids: list[int]) -> list[ModelVersion]:
    unique = list(dict.fromkeys(ids))
    if not 2 <= len(unique) <= 4:
        raise DomainError(
            "Compare needs 2 to 4 different versions.", fields={"ids": ["Give 2–4 version ids."]}
        )
    found = {
        v.pk: v
        for v in versions_visible_to(user)
        .prefetch_related(*_version_prefetches())
        .filter(pk__in=unique)
    }
    missing = [str(i) for i in unique if i not in found]
    if missing:
        raise NotFound(f"No model version(s) {', '.join(missing)}.")
    return [found[i] for i in unique]


def compare_table(versions: list[ModelVersion]) -> list[dict[str, Any]]:
    """Rows ``{"key": "mmlu:acc", "values": [v1 or None, ...]}`` over the union of evals."""
    keys: dict[str, None] = {}
    per_version: list[dict[str, float]] = []
    for version in versions:
        values = {f"{e.benchmark}:{e.metric}": e.value for e in version.evals.all()}
        per_version.append(values)
        keys.update(dict.fromkeys(values))
    return [{"key": key, "values": [v.get(key) for v in per_version]} for key in sorted(keys)]


def licenses_visible_to(user: Any) -> QuerySet[License]:
    if not permissions.can_read(user):
        return License.objects.none()
    return License.objects.annotate(model_count=Count("models")).order_by("spdx_id")


# --- the contract other apps use ---------------------------------------------------------------


def latest_usable_version(model: AIModel, at: datetime | None = None) -> ModelVersion | None:
    """The newest version of ``model`` approved and in force at ``at`` (default now)."""
    moment = at or timezone.now()
    candidates = (
        ModelVersion.objects.filter(
            model=model,
            status=VersionStatus.APPROVED,
            current_approval__decision=Decision.APPROVED,
        )
        .select_related("model", "current_approval")
        .order_by(*VERSION_RECENCY)
    )
    for version in candidates:
        if version.is_usable(moment):
            return version
    return None


def approval_status(version: ModelVersion, at: datetime | None = None) -> str:
    """``approved`` (in force), ``expired``, ``pending``, ``rejected``, ``changes_requested``,
    ``revoked``, ``deprecated`` or ``none`` (draft, never submitted)."""
    approval = version.current_approval
    if version.status == VersionStatus.APPROVED and approval is not None:
        return Decision.APPROVED if approval.is_in_force(at) else "expired"
    return {
        VersionStatus.SUBMITTED: Decision.PENDING,
        VersionStatus.REJECTED: Decision.REJECTED,
        VersionStatus.CHANGES_REQUESTED: Decision.CHANGES_REQUESTED,
        VersionStatus.REVOKED: Decision.REVOKED,
        VersionStatus.DEPRECATED: "deprecated",
    }.get(version.status, "none")  # type: ignore[call-overload]


# Risk grades as numbers so rules can say ``risk.grade_rank <= params.max_grade_rank``.
GRADE_RANK = {str(k): v for k, v in RISK_GRADE_ORDER.items()}
UNASSESSED_RANK = 99


def facts_queryset() -> QuerySet[ModelVersion]:
    """Versions loaded with everything ``version_facts`` reads (no further queries)."""
    return ModelVersion.objects.select_related(
        "model__license", "current_approval", "risk"
    ).prefetch_related(Prefetch("evals", queryset=EvalResult.objects.order_by()))


def _facts_loaded(version: ModelVersion) -> ModelVersion:
    cache = getattr(version, "_prefetched_objects_cache", {})
    state = version._state.fields_cache
    if (
        "evals" in cache
        and {"model", "current_approval", "risk"} <= state.keys()
        and "license" in version.model._state.fields_cache
    ):
        return version
    return facts_queryset().get(pk=version.pk)


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def version_facts(version: ModelVersion, at: datetime | None = None) -> dict[str, Any]:
    """What policies know of a version: the ``model``, ``version``, ``license``, ``risk``
    and ``approval`` parts of the policy input document (README, "The input document"),
    as plain JSON (the CEL binding rejects str subclasses and datetimes). No query when the
    version comes from ``facts_queryset()``, two otherwise."""
    now = at or timezone.now()
    version = _facts_loaded(version)
    return {
        "model": _model_doc(version.model),
        "version": _version_doc(version, now),
        "license": _license_doc(version.model.license),
        "risk": _risk_doc(version),
        "approval": _approval_doc(version, now),
    }


def _model_doc(model: AIModel) -> dict[str, Any]:
    return {
        "slug": str(model.slug),
        "name": str(model.name),
        "provider": str(model.provider),
        "provider_jurisdiction": str(model.provider_jurisdiction),
        "access": str(model.access),
        "modality": str(model.modality),
        "openness_tier": str(model.openness_tier),
        "parameter_count": model.parameter_count,
    }


def _version_doc(version: ModelVersion, now: datetime) -> dict[str, Any]:
    evals: dict[str, float] = {}
    for result in version.evals.all():
        key = str(result.benchmark).lower()
        # Several metrics for one benchmark: the best one counts (gates are minimums).
        evals[key] = max(evals.get(key, float("-inf")), float(result.value))
    return {
        "label": str(version.label),
        "status": str(version.status),
        "usable": version.is_usable(now),
        "release_date": _iso(version.release_date),
        "evals": evals,
    }


def _license_doc(lic: License) -> dict[str, Any]:
    return {
        "spdx_id": str(lic.spdx_id),
        "name": str(lic.name),
        "category": str(lic.category),
        "commercial_use": bool(lic.commercial_use),
        "attribution_required": bool(lic.attribution_required),
        "user_threshold_mau": lic.user_threshold_mau,
        "territorial_restrictions": [str(x) for x in (lic.territorial_restrictions or [])],
        "acceptable_use_policy_url": str(lic.acceptable_use_policy_url),
    }


def _risk_doc(version: ModelVersion) -> dict[str, Any]:
    try:
        risk: RiskAssessment | None = version.risk
    except RiskAssessment.DoesNotExist:
        risk = None
    if risk is None:
        return {
            "assessed": False,
            "eu_ai_act_class": "",
            "grade": "unassessed",
            "grade_rank": UNASSESSED_RANK,
            "score": 0,
        }
    grade = str(risk.grade)
    return {
        "assessed": True,
        "eu_ai_act_class": str(risk.eu_ai_act_class),
        "grade": grade,
        "grade_rank": GRADE_RANK.get(grade, UNASSESSED_RANK),
        "score": int(risk.score),
    }


def _approval_doc(version: ModelVersion, now: datetime) -> dict[str, Any]:
    approval: Approval | None = version.current_approval
    conditions: dict[str, list[str]] = {key: [] for key in CONDITION_KEYS}
    if approval is None:
        return {
            "present": False,
            "status": str(approval_status(version, now)),
            "decision": "none",
            "in_force": False,
            "expired": False,
            "expires_at": None,
            "conditions": conditions,
        }
    raw = approval.conditions if isinstance(approval.conditions, dict) else {}
    for key in CONDITION_KEYS:
        values = raw.get(key) or []
        conditions[key] = [str(v) for v in values] if isinstance(values, list) else []
    return {
        "present": True,
        "status": str(approval_status(version, now)),
        "decision": str(approval.decision),
        "in_force": approval.is_in_force(now) and version.status == VersionStatus.APPROVED,
        "expired": approval.expires_at is not None and approval.expires_at <= now,
        "expires_at": _iso(approval.expires_at),
        "conditions": conditions,
    }
