"""Demo data for the registry: the real licences and 15 real models in a mix of states.

Idempotent: licences and models are matched by their natural keys and only real changes
are written (and audited); a version that exists is left alone with its history."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from accounts.models import Team, User
from audit.services import record_event
from registry import services
from registry.models import AIModel, Approval, EvalSourceKind, ModelVersion
from registry.seed.licenses import LICENSES
from registry.seed.models import MODELS
from registry.services.catalog import MODEL_FIELDS

REQUESTER_BY_TEAM = {"ml-platform": "owner", "research": "researcher"}


def _model_fields(spec: dict[str, Any]) -> dict[str, Any]:
    fields = {key: spec[key] for key in MODEL_FIELDS if key in spec}
    fields.setdefault("modality", "text")
    return fields


def _ensure_model(spec: dict[str, Any], requester: User, team: Team) -> AIModel:
    existing = AIModel.objects.filter(slug=spec["slug"]).first()
    if existing is None:
        return services.model_create(
            actor=requester,
            slug=spec["slug"],
            license=spec["license"],
            owner_team=team,
            **_model_fields(spec),
        )
    return services.model_update(
        actor=requester, model=existing, license=spec["license"], **_model_fields(spec)
    )


def _create_version(spec: dict[str, Any], model: AIModel, users: dict[str, User]) -> None:
    requester = users[REQUESTER_BY_TEAM[spec["team"]]]
    info = spec["version"]
    version = services.version_create(
        actor=requester,
        model=model,
        label=info["label"],
        revision=info.get("revision", ""),
        release_date=date.fromisoformat(info["release_date"]),
    )
    for item in spec["evals"]:
        services.eval_add(
            actor=requester,
            version=version,
            item=services.EvalInput(source_kind=EvalSourceKind.VENDOR, **item),
        )
    state = spec["state"]
    if state == "draft":
        return
    services.version_submit(
        actor=requester, version=version, justification=spec.get("justification", "")
    )
    if state == "submitted":
        return
    decider = users[spec["decider"]]
    if state == "rejected":
        services.version_reject(actor=decider, version=version, comment=spec["comment"])
        return
    if state == "changes_requested":
        services.version_request_changes(actor=decider, version=version, comment=spec["comment"])
        return
    days = spec.get("expires_in_days") or (1 if state == "expired" else None)
    approval = services.version_approve(
        actor=decider,
        version=version,
        conditions=spec.get("conditions") or {},
        expires_at=timezone.now() + timedelta(days=days) if days else None,
        comment="Demo approval.",
    )
    if state == "expired":
        # Demo history: this approval was granted for six months and ran out ten days ago.
        past = timezone.now() - timedelta(days=10)
        Approval.objects.filter(pk=approval.pk).update(
            expires_at=past, decided_at=past - timedelta(days=180)
        )
        record_event(
            actor="seed_demo",
            action="model_version.approval_backdated",
            target=version,
            changes={"approval_id": approval.pk, "expires_at": past},
        )


def seed(*, users: dict[str, User], teams: dict[str, Team]) -> None:
    for data in LICENSES:
        services.license_ensure(actor="seed_demo", **data)
    for spec in MODELS:
        requester = users[REQUESTER_BY_TEAM[spec["team"]]]
        model = _ensure_model(spec, requester, teams[spec["team"]])
        if not ModelVersion.objects.filter(model=model, label=spec["version"]["label"]).exists():
            _create_version(spec, model, users)
    services.expire_approvals(actor="seed_demo")
