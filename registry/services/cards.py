"""Hugging Face model card import: README with YAML front matter → model, version and evals.

Parsed offline with ``huggingface_hub.ModelCard`` (no hub access). Unknown licences,
base models and odd metadata become warnings in the preview; creating the model then needs
a catalogued licence."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from accounts.models import Team, User
from audit.services import record_event
from config.exceptions import Unprocessable
from config.uploads import PayloadTooLarge, too_large_message
from registry.licensing import hf_license_to_id
from registry.models import Access, AIModel, EvalSourceKind, License, Modality, ModelVersion
from registry.services.catalog import model_create, version_create
from registry.services.evals import EvalInput, _build

MAX_CARD_BYTES = 1024 * 1024

# Hugging Face organisation → (provider, provider jurisdiction)
KNOWN_ORGS: dict[str, tuple[str, str]] = {
    "meta-llama": ("Meta", "US"),
    "facebook": ("Meta", "US"),
    "mistralai": ("Mistral AI", "FR"),
    "qwen": ("Alibaba/Qwen", "CN"),
    "microsoft": ("Microsoft", "US"),
    "google": ("Google", "US"),
    "deepseek-ai": ("DeepSeek", "CN"),
    "huggingfaceh4": ("Hugging Face", "US"),
    "tiiuae": ("Technology Innovation Institute", "AE"),
    "bigcode": ("BigCode", "US"),
    "ibm-granite": ("IBM", "US"),
    "nvidia": ("NVIDIA", "US"),
    "allenai": ("Allen Institute for AI", "US"),
}
PIPELINE_MODALITY = {
    "text-generation": Modality.TEXT,
    "text2text-generation": Modality.TEXT,
    "image-text-to-text": Modality.VISION_LANGUAGE,
    "visual-question-answering": Modality.VISION_LANGUAGE,
    "feature-extraction": Modality.EMBEDDING,
    "sentence-similarity": Modality.EMBEDDING,
    "text-to-image": Modality.IMAGE,
    "automatic-speech-recognition": Modality.AUDIO,
    "text-to-speech": Modality.AUDIO,
}


@dataclass
class CardPreview:
    hf_repo_id: str
    slug: str
    name: str
    provider: str
    provider_jurisdiction: str
    modality: str
    license_id: str | None
    license_raw: str
    license_known: bool
    base_model_repo: str
    base_model_slug: str | None
    datasets: list[str]
    model_card_url: str
    evals: list[EvalInput] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["evals"] = [dict(e.__dict__) for e in self.evals]
        return data


def slug_from_repo(repo_id: str) -> str:
    name = repo_id.rsplit("/", 1)[-1].lower()
    return re.sub(r"[^a-z0-9]+", "-", name).strip("-")[:100]


def _as_list(value: Any) -> list[Any]:
    # Cards often write a single entry as a scalar ("datasets: wikitext"), not a list.
    if isinstance(value, list | tuple):
        return list(value)
    return [value] if isinstance(value, str) else []


def _first(value: Any) -> str:
    if isinstance(value, list):
        return str(value[0]) if value else ""
    return str(value or "")


def parse_model_card(content: str | bytes, *, hf_repo_id: str = "") -> CardPreview:
    from huggingface_hub import ModelCard

    size = len(content) if isinstance(content, bytes) else len(content.encode("utf-8", "replace"))
    if size > MAX_CARD_BYTES:
        raise PayloadTooLarge(too_large_message("The model card", MAX_CARD_BYTES, size))
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise Unprocessable("The model card is not UTF-8 text.") from exc
    if not content.lstrip().startswith("---"):
        raise Unprocessable(
            "The model card has no YAML front matter (it must start with '---').",
            fields={"content": ["No YAML front matter."]},
            code="invalid_model_card",
        )
    try:
        card = ModelCard(content)
    except Exception as exc:  # yaml.YAMLError, ValueError from huggingface_hub
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise Unprocessable(
            f"The model card's YAML front matter cannot be parsed: {first_line}",
            fields={"content": [first_line]},
            code="invalid_model_card",
        ) from exc
    data = card.data
    warnings: list[str] = []
    repo = (hf_repo_id or "").strip()
    if not repo:
        name_hint = getattr(data, "model_name", None) or ""
        match = re.search(r"^#\s+(.+)$", card.text or "", flags=re.MULTILINE)
        heading = match.group(1).strip() if match else ""
        heading = re.sub(r"^model card for\s+", "", heading, flags=re.IGNORECASE)
        repo = name_hint or heading
        if not repo:
            warnings.append("The card does not name the model; give hf_repo_id or a slug.")
    org = repo.split("/", 1)[0].lower() if "/" in repo else ""
    provider, jurisdiction = KNOWN_ORGS.get(org, ("", ""))
    if not provider:
        warnings.append(
            "Unknown provider organisation"
            + (f" '{org}'" if org else "")
            + ": set provider and provider_jurisdiction."
        )

    license_raw = str(getattr(data, "license", "") or "")
    license_name = getattr(data, "license_name", None) or data.to_dict().get("license_name")
    license_id = hf_license_to_id(license_raw, license_name)
    license_known = bool(license_id and License.objects.filter(spdx_id__iexact=license_id).exists())
    if not license_raw:
        warnings.append("The card declares no licence: choose one from the catalog.")
    elif not license_id:
        warnings.append(f"Licence '{license_raw}' is not an SPDX id Steward knows: choose one.")
    elif not license_known:
        warnings.append(
            f"Licence '{license_id}' (card: '{license_raw}') is not in the licence catalog: "
            "add it with its obligations, or choose a catalogued licence."
        )

    base_repo = _first(getattr(data, "base_model", None))
    base_slug = None
    if base_repo:
        base = (
            AIModel.objects.filter(hf_repo_id__iexact=base_repo).only("slug").first()
            or AIModel.objects.filter(slug=slug_from_repo(base_repo)).only("slug").first()
        )
        base_slug = base.slug if base else None
        if base is None:
            warnings.append(f"Base model '{base_repo}' is not in the registry; lineage left empty.")

    datasets = [str(d) for d in _as_list(getattr(data, "datasets", None)) if d]
    pipeline = str(getattr(data, "pipeline_tag", "") or "")
    modality = PIPELINE_MODALITY.get(pipeline, Modality.TEXT)
    tags = [str(t).lower() for t in (getattr(data, "tags", None) or [])]
    if "code" in tags and modality == Modality.TEXT and "coder" in repo.lower():
        modality = Modality.CODE

    evals: list[EvalInput] = []
    for result in getattr(data, "eval_results", None) or []:
        args = result.dataset_args if isinstance(result.dataset_args, dict) else {}
        shot = args.get("num_few_shot")
        value = result.metric_value
        if isinstance(value, str):
            try:
                value = float(value.rstrip("%"))
            except ValueError:
                warnings.append(
                    f"Eval {result.dataset_name} {result.metric_type}: value {value!r} skipped."
                )
                continue
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            warnings.append(
                f"Eval {result.dataset_name} {result.metric_type}: value {value!r} skipped."
            )
            continue
        dataset_type = str(result.dataset_type or "")
        benchmark = (
            dataset_type if dataset_type and dataset_type != "unknown" else result.dataset_name
        )
        metric = str(result.metric_type or "")
        if not metric or metric == "unknown":
            metric = str(result.metric_name or "value")
        evals.append(
            EvalInput(
                benchmark=str(benchmark)[:100],
                metric=metric[:50],
                value=value,
                n_shot=int(shot) if isinstance(shot, int) else None,
                source_kind=EvalSourceKind.LEADERBOARD
                if "leaderboard" in str(result.source_name or "").lower()
                else EvalSourceKind.VENDOR,
                evidence_url=str(result.source_url or "")[:200],
                notes=" ".join(
                    p
                    for p in [str(result.dataset_name or ""), str(result.dataset_config or "")]
                    if p
                )[:300],
            )
        )
    name = repo.rsplit("/", 1)[-1] if repo else ""
    preview = CardPreview(
        hf_repo_id=repo if "/" in repo else "",
        slug=slug_from_repo(repo) if repo else "",
        name=name,
        provider=provider,
        provider_jurisdiction=jurisdiction,
        modality=modality,
        license_id=license_id,
        license_raw=license_raw,
        license_known=license_known,
        base_model_repo=base_repo,
        base_model_slug=base_slug,
        datasets=datasets,
        model_card_url=f"https://huggingface.co/{repo}" if "/" in repo else "",
        evals=evals,
        warnings=warnings,
    )
    if _holds_nul(preview.as_dict()):
        # YAML escapes in quoted strings make NUL characters, which PostgreSQL text and jsonb
        # cannot hold: importing such a card was a 500.
        raise Unprocessable(
            "The model card's front matter holds NUL characters.",
            fields={"content": ["NUL characters are not allowed."]},
            code="invalid_model_card",
        )
    return preview


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(item) for item in value)
    return False


@transaction.atomic
def model_card_import(
    *,
    actor: User,
    content: str | bytes,
    hf_repo_id: str = "",
    owner_team: Team | None = None,
    version_label: str = "",
    overrides: dict[str, Any] | None = None,
) -> tuple[AIModel, ModelVersion, CardPreview]:
    """Create a model, a draft version and its evals from a card. All or nothing."""
    preview = parse_model_card(content, hf_repo_id=hf_repo_id)
    given = {k: v for k, v in (overrides or {}).items() if v not in (None, "")}
    slug = given.pop("slug", None) or preview.slug
    license_choice = given.pop("license", None) or preview.license_id
    if not license_choice:
        raise Unprocessable(
            "The card's licence is missing or unknown: "
            + "; ".join(w for w in preview.warnings if "icence" in w)
            + " Pass 'license' with a catalogued licence id.",
            fields={"license": ["Required: the card's licence is unknown."]},
            code="unknown_license",
        )
    base = None
    if preview.base_model_slug:
        base = AIModel.objects.get(slug=preview.base_model_slug)
    components = {"weights": True, "architecture": True, "model_card": True}
    if preview.evals:
        components["evaluation_results"] = True
    data: dict[str, Any] = {
        "name": preview.name,
        "provider": preview.provider,
        "provider_jurisdiction": preview.provider_jurisdiction,
        "modality": preview.modality,
        "access": Access.OPEN_WEIGHTS,
        "model_card_url": preview.model_card_url,
        "hf_repo_id": preview.hf_repo_id,
        "datasets": preview.datasets,
        "openness_components": components,
    }
    data.update(given)
    model = model_create(
        actor=actor,
        slug=slug,
        license=license_choice,
        owner_team=owner_team,
        base_model=base,
        **data,
    )
    version = version_create(actor=actor, model=model, label=version_label or "1.0")
    built = [_build(version, item) for item in preview.evals]
    if built:
        from registry.models import EvalResult

        EvalResult.objects.bulk_create(built)
    record_event(
        actor=actor,
        action="model.card_imported",
        target=model,
        changes={
            "hf_repo_id": preview.hf_repo_id,
            "license": model.license.spdx_id,
            "base_model": preview.base_model_repo,
            "evals": len(built),
            "warnings": preview.warnings,
        },
    )
    if built:
        from registry.services.catalog import risk_assess

        risk_assess(actor=actor, version=version)
    return model, version, preview
