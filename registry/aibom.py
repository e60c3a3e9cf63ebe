"""AI-BOM: a model version as a CycloneDX 1.6 ML-BOM (JSON) with its ``modelCard``.

cyclonedx-python-lib builds and serialises the BOM (component, supplier, licence, hashes,
purl, lineage as pedigree, external references). The library has no object model for
``modelCard`` yet, so it is added to the serialised component, and the whole document is
then validated against the library's bundled CycloneDX 1.6 JSON schema before it leaves."""

from __future__ import annotations

import json
from typing import Any

from cyclonedx.contrib.license.factories import LicenseFactory
from cyclonedx.model import (
    ExternalReference,
    ExternalReferenceType,
    HashAlgorithm,
    HashType,
    Property,
    XsUri,
)
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType, Pedigree
from cyclonedx.model.contact import OrganizationalEntity
from cyclonedx.model.license import DisjunctiveLicense, LicenseExpression
from cyclonedx.output.json import JsonV1Dot6
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from django.utils.http import content_disposition_header
from packageurl import PackageURL

from registry.models import AIModel, ModelVersion
from registry.selectors import approval_status
from registry.services.cards import PIPELINE_MODALITY

SCHEMA_VERSION = SchemaVersion.V1_6
_TASKS: dict[str, str] = {
    str(modality): task for task, modality in reversed(list(PIPELINE_MODALITY.items()))
}


class AIBOMInvalid(Exception):
    """The generated document does not validate: a bug, never the user's input."""


def _license(model: AIModel) -> DisjunctiveLicense | LicenseExpression:
    lic = model.license
    if lic.spdx_id.startswith("LicenseRef-"):
        url = XsUri(lic.source_url) if lic.source_url else None
        return DisjunctiveLicense(name=f"{lic.name} ({lic.spdx_id})", url=url)
    return LicenseFactory().make_from_string(lic.spdx_id)


def _component(model: AIModel, version: ModelVersion | None) -> Component:
    purl = None
    if model.hf_repo_id and "/" in model.hf_repo_id:
        namespace, name = model.hf_repo_id.split("/", 1)
        purl = PackageURL(
            type="huggingface",
            namespace=namespace,
            name=name,
            version=(version.revision or None) if version else None,
        )
    refs = []
    if model.model_card_url:
        refs.append(
            ExternalReference(
                type=ExternalReferenceType.MODEL_CARD, url=XsUri(model.model_card_url)
            )
        )
    if model.license.source_url:
        refs.append(
            ExternalReference(
                type=ExternalReferenceType.LICENSE, url=XsUri(model.license.source_url)
            )
        )
    hashes = []
    if version and version.artifact_sha256:
        hashes.append(HashType(alg=HashAlgorithm.SHA_256, content=version.artifact_sha256))
    return Component(
        type=ComponentType.MACHINE_LEARNING_MODEL,
        name=model.slug,
        version=version.label if version else None,
        group=model.provider,
        description=model.name,
        bom_ref=f"model:{model.slug}@{version.label}" if version else f"model:{model.slug}",
        supplier=OrganizationalEntity(name=model.provider),
        licenses=[_license(model)],
        hashes=hashes,
        purl=purl,
        external_references=refs,
    )


def _property(name: str, value: Any) -> dict[str, str]:
    return {"name": f"steward:{name}", "value": "" if value is None else str(value)}


def _model_card(model: AIModel, version: ModelVersion) -> dict[str, Any]:
    metrics = [
        {
            "type": f"{e.benchmark}:{e.metric}",
            "value": f"{e.value:g}",
            **({"slice": f"{e.n_shot}-shot"} if e.n_shot is not None else {}),
        }
        for e in version.evals.all()
    ]
    try:
        risk = version.risk
    except ModelVersion.risk.RelatedObjectDoesNotExist:  # type: ignore[attr-defined]
        risk = None
    approval = version.current_approval
    conditions = (approval.conditions or {}) if approval else {}
    card: dict[str, Any] = {
        "bom-ref": f"model-card:{model.slug}@{version.label}",
        "modelParameters": {
            "task": _TASKS.get(model.modality, "text-generation"),
            "datasets": [{"type": "dataset", "name": str(name)} for name in model.datasets],
        },
        "considerations": {
            "useCases": list(conditions.get("use_cases") or []),
            "technicalLimitations": [
                f"Context length: {model.context_length} tokens"
                if model.context_length
                else "Context length not recorded"
            ],
            "ethicalConsiderations": [
                {"name": factor["why"], "mitigationStrategy": f"Risk points: {factor['points']}"}
                for factor in (risk.factors if risk else [])
                if factor.get("points")
            ],
        },
        "properties": [
            _property("license", model.license.spdx_id),
            _property("license_category", model.license.category),
            _property("openness_tier", model.openness_tier),
            _property("access", model.access),
            _property("provider_jurisdiction", model.provider_jurisdiction),
            _property("eu_ai_act_class", risk.eu_ai_act_class if risk else None),
            _property("risk_grade", risk.grade if risk else None),
            _property("risk_score", risk.score if risk else None),
            _property("status", version.status),
            _property("approval", approval_status(version)),
            _property(
                "approval_expires_at",
                approval.expires_at.isoformat() if approval and approval.expires_at else None,
            ),
            *[
                _property(f"condition:{key}", ",".join(values))
                for key, values in sorted(conditions.items())
                if values
            ],
        ],
    }
    if metrics:
        card["quantitativeAnalysis"] = {"performanceMetrics": metrics}
    if not card["modelParameters"]["datasets"]:
        del card["modelParameters"]["datasets"]
    return card


def build_aibom(version: ModelVersion) -> dict[str, Any]:
    """The CycloneDX document for ``version`` (load it with model__license, model__base_model
    and prefetched evals to avoid extra queries). Raises AIBOMInvalid if it fails the schema."""
    model = version.model
    component = _component(model, version)
    if model.base_model_id:
        component.pedigree = Pedigree(ancestors=[_component(model.base_model, None)])  # type: ignore[arg-type]
    component.properties.add(Property(name="steward:model_version_id", value=str(version.pk)))
    bom = Bom()
    bom.metadata.component = component
    document = json.loads(JsonV1Dot6(bom).output_as_string())
    document["metadata"]["component"]["modelCard"] = _model_card(model, version)
    text = json.dumps(document)
    error = JsonStrictValidator(SCHEMA_VERSION).validate_str(text)
    if error is not None:
        raise AIBOMInvalid(str(error))
    return document


def aibom_content_disposition(version: ModelVersion) -> str:
    """The download's Content-Disposition. Labels are free text: a quote or a line break
    in one must not break (or fail) the header, so it is quoted or percent-encoded."""
    return content_disposition_header(
        as_attachment=True, filename=f"{version.model.slug}-{version.label}.cdx.json"
    )
