"""Writes for the catalog: licences, models, versions, risk assessments, approver scopes."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from accounts.models import Team, User
from accounts.roles import ADMIN, APPROVER, user_has_role
from audit.services import record_event
from config.exceptions import Conflict, DomainError, NotAllowed, Unprocessable
from registry import permissions
from registry.countries import COMMON_MISTAKES, PROVIDER_JURISDICTIONS
from registry.licensing import normalise_license_id, resolve_license
from registry.models import (
    Access,
    AIModel,
    EUAIActClass,
    License,
    LicenseCategory,
    Modality,
    ModelVersion,
    RiskAssessment,
    RiskGrade,
)
from registry.openness import compute_openness, unknown_components
from registry.risk import compute_risk
from registry.services._validation import control_characters, full_clean

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")

LICENSE_FIELDS = [
    "name",
    "category",
    "commercial_use",
    "attribution_required",
    "share_alike",
    "acceptable_use_policy_url",
    "user_threshold_mau",
    "territorial_restrictions",
    "source_url",
    "obligations",
    "summary",
]
MODEL_FIELDS = [
    "name",
    "provider",
    "provider_jurisdiction",
    "modality",
    "access",
    "parameter_count",
    "context_length",
    "model_card_url",
    "description",
    "openness_components",
    "hf_repo_id",
    "datasets",
    "training_compute_flops",
    "eu_ai_act_class",
]


def _choice(value: Any, choices: Any, field: str) -> str:
    if value not in choices.values:
        raise DomainError(
            f"{field}: '{value}' is not one of {', '.join(choices.values)}.",
            fields={field: [f"Unknown value '{value}'."]},
        )
    return str(value)


def _jsonable_changes(obj: Any, fields: list[str]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in fields}


# --- licences ---------------------------------------------------------------------------------


def _clean_license_data(data: dict[str, Any]) -> dict[str, Any]:
    clean = {k: v for k, v in data.items() if k in LICENSE_FIELDS}
    if "category" in clean:
        _choice(clean["category"], LicenseCategory, "category")
    if clean.get("user_threshold_mau") is not None and int(clean["user_threshold_mau"]) <= 0:
        raise DomainError(
            "user_threshold_mau must be a positive number of monthly active users.",
            fields={"user_threshold_mau": ["Must be positive."]},
        )
    restrictions = clean.get("territorial_restrictions")
    if restrictions is not None:
        if not isinstance(restrictions, list) or not all(
            isinstance(r, str) and r.strip() for r in restrictions
        ):
            raise DomainError(
                "territorial_restrictions must be a list of jurisdiction codes, e.g. ['EU'].",
                fields={"territorial_restrictions": ["A list of codes."]},
            )
        clean["territorial_restrictions"] = sorted({r.strip().upper() for r in restrictions})
    if "obligations" in clean and not isinstance(clean["obligations"], list):
        raise DomainError(
            "obligations must be a list of sentences.", fields={"obligations": ["A list."]}
        )
    return clean


@transaction.atomic
def license_ensure(*, actor: Any, spdx_id: str, **data: Any) -> License:
    """Create or update a catalog licence (idempotent; records an event only for changes)."""
    if (
        actor is not None
        and not isinstance(actor, str)
        and not user_has_role(actor, ADMIN, APPROVER)
    ):
        raise NotAllowed("Only approvers and admins maintain the licence catalog.")
    canonical = normalise_license_id(spdx_id)
    clean = _clean_license_data(data)
    if not clean.get("name") and not License.objects.filter(spdx_id=canonical).exists():
        raise DomainError("A licence needs a name.", fields={"name": ["Required."]})
    lic = License.objects.filter(spdx_id=canonical).first()
    if lic is None:
        if "category" not in clean:
            raise DomainError("A licence needs a category.", fields={"category": ["Required."]})
        lic = License(spdx_id=canonical, **clean)
        full_clean(lic)
        try:
            with transaction.atomic():
                lic.save()
        except IntegrityError as exc:  # a concurrent create of the same licence
            raise Conflict(f"Licence '{canonical}' is already in the catalog.") from exc
        record_event(
            actor=actor,
            action="license.created",
            target=lic,
            changes=_jsonable_changes(lic, LICENSE_FIELDS),
        )
        return lic
    changed = {
        k: {"before": getattr(lic, k), "after": v} for k, v in clean.items() if getattr(lic, k) != v
    }
    if changed:
        for key, value in clean.items():
            setattr(lic, key, value)
        full_clean(lic)
        lic.save()
        record_event(actor=actor, action="license.updated", target=lic, changes=changed)
    return lic


# --- models -----------------------------------------------------------------------------------


def _clean_provider_jurisdiction(value: Any) -> str:
    """Where the provider is established: an ISO 3166-1 alpha-2 country code, or EU. Risk
    (STEWARD_ELEVATED_JURISDICTIONS) and policy rules compare it with such codes, so a made-up
    one ("ZZ") would silently match nothing."""
    code = str(value or "").strip().upper()
    if code in PROVIDER_JURISDICTIONS:
        return code
    if not code:
        raise DomainError(
            "provider_jurisdiction is required.", fields={"provider_jurisdiction": ["Required."]}
        )
    hint = f" ({COMMON_MISTAKES[code]})" if code in COMMON_MISTAKES else ""
    raise DomainError(
        f"provider_jurisdiction: {code!r} is not an ISO 3166-1 alpha-2 country code{hint} "
        "nor EU (e.g. US, FR, CN).",
        fields={"provider_jurisdiction": [f"Unknown country code: {code}{hint}."]},
    )


def _clean_model_data(data: dict[str, Any]) -> dict[str, Any]:
    clean = {k: v for k, v in data.items() if k in MODEL_FIELDS}
    for field, choices in (("modality", Modality), ("access", Access)):
        if field in clean:
            _choice(clean[field], choices, field)
    if clean.get("eu_ai_act_class"):
        _choice(clean["eu_ai_act_class"], EUAIActClass, "eu_ai_act_class")
    if "provider_jurisdiction" in clean:
        clean["provider_jurisdiction"] = _clean_provider_jurisdiction(
            clean["provider_jurisdiction"]
        )
    for field in ("parameter_count", "context_length", "training_compute_flops"):
        value = clean.get(field)
        if value is not None and value <= 0:
            raise DomainError(f"{field} must be positive.", fields={field: ["Must be positive."]})
    components = clean.get("openness_components")
    if components is not None:
        if not isinstance(components, dict) or not all(
            isinstance(v, bool) for v in components.values()
        ):
            raise DomainError(
                "openness_components must map component names to true/false.",
                fields={"openness_components": ["An object of booleans."]},
            )
        unknown = unknown_components(components)
        if unknown:
            raise DomainError(
                f"Unknown openness component(s): {', '.join(unknown)}.",
                fields={"openness_components": [f"Unknown: {', '.join(unknown)}"]},
            )
    if "datasets" in clean and not isinstance(clean["datasets"], list):
        raise DomainError("datasets must be a list.", fields={"datasets": ["A list."]})
    return clean


def _apply_openness(model: AIModel) -> None:
    components = dict(model.openness_components or {})
    if model.access == Access.CLOSED_API:
        components["weights"] = False
    model.openness_tier = compute_openness(components, model.license.category).tier


@transaction.atomic
def model_create(
    *,
    actor: User,
    slug: str,
    license: License | str,
    owner_team: Team | None = None,
    base_model: AIModel | None = None,
    **data: Any,
) -> AIModel:
    if not _SLUG.match(slug or ""):
        raise DomainError(
            f"'{slug}' is not a valid slug (lowercase letters, digits and hyphens).",
            fields={"slug": ["Invalid slug."]},
        )
    if owner_team is None and not user_has_role(actor, ADMIN):
        teams = list(actor.teams.all()[:2])
        owner_team = teams[0] if len(teams) == 1 else None
    if not permissions.can_create_model_for(actor, owner_team.pk if owner_team else None):
        raise NotAllowed("Model owners register models only for a team they belong to.")
    if AIModel.objects.filter(slug=slug).exists():
        raise Conflict(f"A model with slug '{slug}' already exists.", fields={"slug": ["Taken."]})
    lic = license if isinstance(license, License) else resolve_license(license)
    clean = _clean_model_data(data)
    for required in ("name", "provider", "provider_jurisdiction", "access"):
        if not clean.get(required):
            raise DomainError(f"{required} is required.", fields={required: ["Required."]})
    model = AIModel(slug=slug, license=lic, owner_team=owner_team, base_model=base_model, **clean)
    _apply_openness(model)
    full_clean(model, exclude=["license", "owner_team", "base_model"])
    try:
        with transaction.atomic():
            model.save()
    except IntegrityError as exc:  # a concurrent create of the same slug
        raise Conflict(
            f"A model with slug '{slug}' already exists.", fields={"slug": ["Taken."]}
        ) from exc
    record_event(
        actor=actor,
        action="model.created",
        target=model,
        changes={
            "slug": slug,
            "license": lic.spdx_id,
            "owner_team": owner_team.slug if owner_team else None,
            "base_model": base_model.slug if base_model else None,
            "openness_tier": model.openness_tier,
            **{k: v for k, v in clean.items() if k != "description"},
        },
    )
    return model


@transaction.atomic
def model_update(
    *, actor: User, model: AIModel, license: License | str | None = None, **data: Any
) -> AIModel:
    model = AIModel.objects.select_for_update().select_related("license").get(pk=model.pk)
    if not permissions.can_edit(actor, model):
        raise NotAllowed("Only the owner team's model owners and admins edit this model.")
    clean = _clean_model_data(data)
    changes: dict[str, Any] = {}
    if license is not None:
        lic = license if isinstance(license, License) else resolve_license(license)
        if lic.pk != model.license_id:
            changes["license"] = {"before": model.license.spdx_id, "after": lic.spdx_id}
            model.license = lic
    for key, value in clean.items():
        if getattr(model, key) != value:
            changes[key] = {"before": getattr(model, key), "after": value}
            setattr(model, key, value)
    if not changes:
        return model
    before_tier = model.openness_tier
    _apply_openness(model)
    if model.openness_tier != before_tier:
        changes["openness_tier"] = {"before": before_tier, "after": model.openness_tier}
    full_clean(model, exclude=["license", "owner_team", "base_model"])
    model.save()
    record_event(actor=actor, action="model.updated", target=model, changes=changes)
    for version in model.versions.all():
        risk_assess(actor=actor, version=version)
    return model


# --- versions ---------------------------------------------------------------------------------


def clean_version_label(label: str) -> str:
    """A version label as stored: trimmed, not empty, within the column, one printable line.

    Every door (API, card import, the UI's import form) comes through ``version_create``."""
    label = (label or "").strip()
    if not label:
        raise DomainError("A version needs a label.", fields={"label": ["Required."]})
    limit = ModelVersion._meta.get_field("label").max_length or 100
    if len(label) > limit:
        # PostgreSQL refuses a longer value (DataError, a 500 from the card import).
        raise DomainError(
            f"A version label has at most {limit} characters.",
            fields={"label": [f"At most {limit} characters."]},
        )
    found = control_characters(label)
    if found:
        # A line break, tab or NUL in a label: invisible on the page, a split row in CSV
        # exports and logs, and a NUL PostgreSQL cannot store at all.
        raise DomainError(
            "A version label cannot hold control characters (line breaks, tabs, NUL...): "
            f"found {', '.join(found)}.",
            fields={"label": ["No control characters (line breaks, tabs, NUL)."]},
        )
    return label


@transaction.atomic
def version_create(
    *,
    actor: User,
    model: AIModel,
    label: str,
    revision: str = "",
    artifact_sha256: str = "",
    release_date: date | None = None,
) -> ModelVersion:
    if not permissions.can_edit(actor, model):
        raise NotAllowed("Only the owner team's model owners and admins add versions.")
    label = clean_version_label(label)
    digest = (artifact_sha256 or "").strip().lower()
    if digest and not _SHA256.match(digest):
        raise DomainError(
            "artifact_sha256 must be 64 hexadecimal characters.",
            fields={"artifact_sha256": ["Not a SHA-256 digest."]},
        )
    if ModelVersion.objects.filter(model=model, label=label).exists():
        raise Conflict(
            f"{model.slug} already has a version '{label}'.", fields={"label": ["Taken."]}
        )
    try:
        with transaction.atomic():
            version = ModelVersion.objects.create(
                model=model,
                label=label,
                revision=revision or "",
                artifact_sha256=digest,
                release_date=release_date,
                created_by=actor,
            )
    except IntegrityError as exc:  # a concurrent create of the same label
        raise Conflict(f"{model.slug} already has a version '{label}'.") from exc
    record_event(
        actor=actor,
        action="model_version.created",
        target=version,
        changes={
            "model": model.slug,
            "label": label,
            "revision": version.revision,
            "artifact_sha256": digest,
            "release_date": release_date,
        },
    )
    risk_assess(actor=actor, version=version)
    return version


# --- risk -------------------------------------------------------------------------------------


@transaction.atomic
def risk_assess(*, actor: Any, version: ModelVersion) -> RiskAssessment:
    """(Re)compute the version's risk; records an event when the outcome changes."""
    model = AIModel.objects.select_related("license").get(pk=version.model_id)
    benchmarks = list(version.evals.values_list("benchmark", flat=True))
    result = compute_risk(model, benchmarks)
    risk = RiskAssessment.objects.select_for_update().filter(version=version).first()
    before = None
    if risk is None:
        risk = RiskAssessment(version=version)
    else:
        before = {"grade": risk.computed_grade, "score": risk.score, "factors": risk.factors}
    after = {"grade": result.grade, "score": result.score, "factors": result.factors}
    if before == after and risk.eu_ai_act_class == result.eu_ai_act_class:
        return risk
    risk.eu_ai_act_class = result.eu_ai_act_class
    risk.computed_grade = result.grade
    risk.score = result.score
    risk.factors = result.factors
    risk.assessed_at = timezone.now()
    risk.save()
    record_event(
        actor=actor,
        action="model_version.risk_assessed",
        target=version,
        changes={
            "eu_ai_act_class": result.eu_ai_act_class,
            "grade": {"before": before["grade"] if before else None, "after": result.grade},
            "score": {"before": before["score"] if before else None, "after": result.score},
        },
    )
    return risk


@transaction.atomic
def risk_override(
    *, actor: User, version: ModelVersion, grade: str, justification: str
) -> RiskAssessment:
    """Set (or with ``grade=""`` clear) a manual grade. Needs a justification; audited."""
    if not permissions.can_decide(actor, version.model):
        raise NotAllowed("Only approvers who may decide this model override its risk grade.")
    if grade:
        _choice(grade, RiskGrade, "grade")
    justification = (justification or "").strip()
    if len(justification) < 10:
        raise DomainError(
            "An override needs a justification of at least 10 characters.",
            fields={"justification": ["Required (10+ characters)."]},
        )
    risk = RiskAssessment.objects.select_for_update().filter(version=version).first()
    if risk is None:
        risk = risk_assess(actor=actor, version=version)
    before = risk.grade
    risk.override_grade = grade
    risk.override_reason = justification
    risk.overridden_by = actor
    risk.overridden_at = timezone.now()
    risk.save()
    record_event(
        actor=actor,
        action="model_version.risk_overridden" if grade else "model_version.risk_override_cleared",
        target=version,
        changes={
            "grade": {"before": before, "after": risk.grade},
            "computed_grade": risk.computed_grade,
            "justification": justification,
        },
    )
    return risk


# --- approver scoping -------------------------------------------------------------------------


@transaction.atomic
def approver_scope_grant(
    *,
    actor: User,
    grantee: User | Group,
    model: AIModel | None = None,
    team: Team | None = None,
    revoke: bool = False,
) -> list[AIModel]:
    """Grant (or revoke) ``registry.approve_aimodel`` on one model or every model of a team."""
    if not user_has_role(actor, ADMIN):
        raise NotAllowed("Only admins scope approvers.")
    if (model is None) == (team is None):
        raise DomainError("Give exactly one of model or team.")
    if isinstance(grantee, User) and not user_has_role(grantee, APPROVER, ADMIN):
        raise Unprocessable(f"{grantee.username} is not an approver.")
    models = [model] if model is not None else list(AIModel.objects.filter(owner_team=team))
    perm = f"registry.{permissions.APPROVE_CODENAME}"
    for item in models:
        (remove_perm if revoke else assign_perm)(perm, grantee, item)
    record_event(
        actor=actor,
        action="registry.approver_scope_revoked" if revoke else "registry.approver_scope_granted",
        target=model or team,
        changes={
            "grantee": getattr(grantee, "username", None) or getattr(grantee, "name", ""),
            "models": [m.slug for m in models],
        },
    )
    return models
