"""The policy input document: registry and catalog facts about one deployment, as plain data.

Every rule reads this document (documented in README.md, "The input document"). It is
built with a fixed number of queries whatever the data (``select_related`` for the
version's model, licence, approval and risk; one prefetch for its evals), contains only
plain JSON types (the CEL binding rejects str subclasses and datetimes), and is stored
verbatim in the decision so any verdict can be explained later.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from config.exceptions import Unprocessable
from config.ids import parse_id
from policy.factcache import Generation, cached, latest_first_key
from policy.models import DataClass, Deployment, Jurisdiction, Region, UseCase
from registry.models import EvalResult, ModelVersion
from registry.selectors import facts_queryset, version_facts

PERSONAL_CLASSES = frozenset({DataClass.PII, DataClass.PHI, DataClass.PCI})


@dataclass
class DeploymentSpec:
    """An inline deployment description, as CI sends it to ``/policy/check``."""

    model: str
    environment: str
    region: str
    version: str | None = None
    use_case: str | None = None
    data_classification: list[str] = field(default_factory=list)
    hosting: str | None = None
    data_subject_region: str = Jurisdiction.EU
    expected_mau: int | None = None
    commercial: bool = True


@dataclass
class Facts:
    """The input document and the rows it was built from."""

    input: dict[str, Any]
    version: ModelVersion
    deployment: Deployment | None


def region_doc(region: Region) -> dict[str, Any]:
    return {
        "code": str(region.code),
        "provider": str(region.provider),
        "name": str(region.name),
        "country": str(region.country),
        "jurisdiction": str(region.jurisdiction),
        "in_eea": region.in_eea,
        "eu_adequacy": bool(region.eu_adequacy),
    }


def use_case_doc(use_case: UseCase | None) -> dict[str, Any]:
    if use_case is None:
        return {"slug": "", "name": "", "eu_ai_act_class": "unspecified", "legal_reference": ""}
    return {
        "slug": str(use_case.slug),
        "name": str(use_case.name),
        "eu_ai_act_class": str(use_case.eu_ai_act_class),
        "legal_reference": str(use_case.legal_reference),
    }


def data_doc(classes: Iterable[str]) -> dict[str, Any]:
    clean = sorted({str(c) for c in classes})
    return {
        "classifications": clean,
        "personal": any(c in PERSONAL_CLASSES for c in clean),
        "special_category": DataClass.PHI in clean,
        "payment": DataClass.PCI in clean,
    }


def input_document(
    *,
    version: ModelVersion,
    region: Region,
    use_case: UseCase | None,
    deployment: dict[str, Any],
    data_classes: Iterable[str],
    now: datetime,
) -> dict[str, Any]:
    return {
        **version_facts(version, now),
        "deployment": deployment,
        "region": region_doc(region),
        "use_case": use_case_doc(use_case),
        "data": data_doc(data_classes),
        "now": now.isoformat(),
    }


def deployment_queryset() -> QuerySet[Deployment]:
    return Deployment.objects.select_related(
        "region",
        "use_case",
        "model_version__model__license",
        "model_version__current_approval",
        "model_version__risk",
    ).prefetch_related(
        Prefetch("model_version__evals", queryset=EvalResult.objects.order_by()),
    )


def deployment_doc(deployment: Deployment) -> dict[str, Any]:
    return {
        "id": str(deployment.pk),
        "slug": str(deployment.slug),
        "inline": False,
        "environment": str(deployment.environment),
        "hosting": str(deployment.hosting),
        "data_subject_region": str(deployment.data_subject_region),
        "expected_mau": deployment.expected_mau,
        "commercial": bool(deployment.commercial),
    }


def facts_for_deployment(deployment: Deployment, now: datetime | None = None) -> Facts:
    """Facts of a deployment loaded with ``deployment_queryset()`` (no further queries)."""
    now = now or timezone.now()
    doc = input_document(
        version=deployment.model_version,
        region=deployment.region,
        use_case=deployment.use_case,
        deployment=deployment_doc(deployment),
        data_classes=deployment.data_classes or [],
        now=now,
    )
    return Facts(doc, deployment.model_version, deployment)


def find_deployment(reference: str) -> Deployment:
    """By numeric id or slug; 2 queries (the deployment and its version's evals)."""
    reference = str(reference).strip()
    query = Q(slug=reference)
    if (pk := parse_id(reference)) is not None:
        query |= Q(pk=pk)
    deployment = deployment_queryset().filter(query).first()
    if deployment is None:
        raise Unprocessable(
            f"No deployment {reference!r}.", fields={"deployment": ["Unknown deployment."]}
        )
    return deployment


def _model_versions(model_slug: str) -> list[ModelVersion]:
    return list(facts_queryset().filter(model__slug=model_slug))


def pick_version(
    versions: list[ModelVersion], label: str | None, now: datetime
) -> ModelVersion | None:
    """The version named ``label``, or the latest usable one (else the latest)."""
    if label:
        return next((v for v in versions if v.label == label), None)
    return max(versions, key=lambda v: latest_first_key(v, now), default=None)


def resolve_version(
    model_slug: str, label: str | None, now: datetime, generation: Generation | None = None
) -> ModelVersion:
    """The named version, or the latest approved one (else the latest: rules will say why).

    With a ``generation`` (the check's hot path) the model's versions come from the fact
    cache; the instances are shared, so callers must not change them."""
    if generation is None:
        versions = _model_versions(model_slug)
    else:
        versions = (
            cached(generation.versions, model_slug, lambda: _model_versions(model_slug) or None)
            or []
        )
    version = pick_version(versions, label, now)
    if version is not None:
        return version
    from registry.models import AIModel

    if not AIModel.objects.filter(slug=model_slug).exists():
        raise Unprocessable(f"Unknown model {model_slug!r}.", fields={"model": ["Unknown model."]})
    if label:
        raise Unprocessable(
            f"Model {model_slug!r} has no version {label!r}.",
            fields={"version": ["Unknown version."]},
        )
    raise Unprocessable(
        f"Model {model_slug!r} has no versions.", fields={"model": ["The model has no versions."]}
    )


def find_region(
    code: str, field_name: str = "region", generation: Generation | None = None
) -> Region:
    def load() -> Region | None:
        return Region.objects.filter(code=code).first()

    region = load() if generation is None else cached(generation.regions, code, load)
    if region is None:
        raise Unprocessable(f"Unknown region {code!r}.", fields={field_name: ["Unknown region."]})
    return region


def find_use_case(slug: str | None, generation: Generation | None = None) -> UseCase | None:
    if not slug:
        return None

    def load() -> UseCase | None:
        return UseCase.objects.filter(slug=slug).first()

    use_case = load() if generation is None else cached(generation.use_cases, slug, load)
    if use_case is None:
        raise Unprocessable(
            f"Unknown use case {slug!r}.", fields={"use_case": ["Unknown use case."]}
        )
    return use_case


def validate_data_classes(classes: Iterable[str], field_name: str) -> list[str]:
    clean = sorted({str(c).strip().lower() for c in classes})
    unknown = [c for c in clean if c not in DataClass.values]
    if unknown:
        raise Unprocessable(
            f"Unknown data classification(s): {', '.join(unknown)}. "
            f"Known: {', '.join(DataClass.values)}.",
            fields={field_name: [f"Unknown: {c}" for c in unknown]},
        )
    return clean


def default_hosting(version: ModelVersion) -> str:
    from policy.models import Hosting
    from registry.models import Access

    return Hosting.VENDOR_API if version.model.access == Access.CLOSED_API else Hosting.SELF_HOSTED


def facts_for_spec(
    spec: DeploymentSpec, now: datetime | None = None, generation: Generation | None = None
) -> Facts:
    """Facts for an inline spec. Without a ``generation``: 4 queries (version, its evals,
    region, use case); with one, none once the cache holds the rows."""
    now = now or timezone.now()
    data_classes = validate_data_classes(spec.data_classification, "data_classification")
    version = resolve_version(spec.model, spec.version, now, generation)
    region = find_region(spec.region, generation=generation)
    use_case = find_use_case(spec.use_case, generation)
    deployment = {
        "id": "",
        "slug": "",
        "inline": True,
        "environment": str(spec.environment),
        "hosting": str(spec.hosting or default_hosting(version)),
        "data_subject_region": str(spec.data_subject_region),
        "expected_mau": spec.expected_mau,
        "commercial": bool(spec.commercial),
    }
    doc = input_document(
        version=version,
        region=region,
        use_case=use_case,
        deployment=deployment,
        data_classes=data_classes,
        now=now,
    )
    return Facts(doc, version, None)


def build_input(deployment_spec: DeploymentSpec | Deployment | str) -> dict[str, Any]:
    """The input document for an inline spec, a deployment, or a deployment id/slug."""
    if isinstance(deployment_spec, DeploymentSpec):
        return facts_for_spec(deployment_spec).input
    if isinstance(deployment_spec, Deployment):
        deployment_spec = str(deployment_spec.pk)
    return facts_for_deployment(find_deployment(deployment_spec)).input
