"""Demo data for policies: the region and use-case catalogs, the built-in policy packs
(published as version 1), and deployments of the registry's demo models. Idempotent."""

from __future__ import annotations

import logging
from typing import Any

from django.utils import timezone

from audit.services import record_event
from config.exceptions import Unprocessable
from policy.catalog import REGIONS, USE_CASES, eu_adequacy_of, jurisdiction_of
from policy.facts import resolve_version
from policy.models import Deployment, Policy, Region, UseCase
from policy.packs import PACKS

logger = logging.getLogger(__name__)

# (slug, model slug, environment, region, hosting, use case, data classes, extra)
DEMO_DEPLOYMENTS: list[tuple[str, str, str, str, str, str, list[str], dict[str, Any]]] = [
    ("support-chatbot-eu", "claude-3-5-sonnet", "prod", "eu-central-1", "vendor_api",
     "customer-support-chatbot", ["pii"], {"expected_mau": 250_000}),
    ("support-chatbot-us-llama", "llama-3-1-8b-instruct", "prod", "us-east-1", "self_hosted",
     "customer-support-chatbot", ["pii"], {"name": "US support bot (denied: EU-only approval)"}),
    ("support-chatbot-eu-llama", "llama-3-1-8b-instruct", "prod", "eu-west-1", "self_hosted",
     "customer-support-chatbot", ["pii"], {}),
    ("code-review-bot", "gpt-4-1", "prod", "eastus2", "vendor_api", "coding-assistant",
     ["confidential"], {}),
    ("ide-completion", "qwen2-5-coder-7b-instruct", "dev", "on-prem-de", "self_hosted",
     "coding-assistant", ["internal"], {}),
    ("clinical-notes-eu", "llama-3-1-70b-instruct", "prod", "on-prem-de", "self_hosted",
     "clinical-notes-summarisation", ["phi", "pii"], {}),
    ("marketing-images", "gemini-2-0-flash", "staging", "europe-west4", "vendor_api",
     "marketing-image-generation", ["internal"], {}),
    ("report-summaries", "gemini-1-5-pro", "prod", "europe-west3", "vendor_api",
     "internal-knowledge-search", ["confidential"], {}),
    ("cv-screening-pilot", "mistral-7b-instruct", "staging", "europe-west9", "self_hosted",
     "cv-screening", ["pii"], {}),
    ("knowledge-search", "mixtral-8x7b-instruct", "prod", "westeurope", "managed",
     "internal-knowledge-search", ["internal"], {}),
    ("doc-translation", "gemma-2-9b-it", "prod", "europe-west1", "self_hosted",
     "document-translation", ["internal"], {}),
    ("vision-qa-eu", "llama-3-2-11b-vision-instruct", "staging", "eu-central-1", "self_hosted",
     "customer-support-chatbot", ["internal"], {}),
    ("edge-assistant", "phi-3-mini-4k-instruct", "dev", "eu-north-1", "self_hosted",
     "coding-assistant", [], {}),
    ("research-sandbox-qwen", "qwen2-5-7b-instruct", "dev", "on-prem-fr", "self_hosted",
     "document-translation", ["internal"], {}),
    ("analytics-qwen-72b", "qwen2-5-72b-instruct", "staging", "on-prem-de", "self_hosted",
     "internal-knowledge-search", ["confidential"], {}),
    ("deepseek-eval", "deepseek-v3", "dev", "on-prem-us", "self_hosted",
     "coding-assistant", ["public"], {}),
]  # fmt: skip


def _seed_catalogs() -> dict[str, int]:
    created = {"regions": 0, "use_cases": 0}
    for code, provider, name, country in REGIONS:
        wanted = {
            "provider": provider,
            "name": name,
            "country": country,
            "jurisdiction": jurisdiction_of(country),
            "eu_adequacy": eu_adequacy_of(country),
        }
        region = Region.objects.filter(code=code).first()
        if region is None:
            Region.objects.create(code=code, **wanted)
            created["regions"] += 1
    for slug, name, ai_class, reference, description in USE_CASES:
        if not UseCase.objects.filter(slug=slug).exists():
            UseCase.objects.create(
                slug=slug,
                name=name,
                eu_ai_act_class=ai_class,
                legal_reference=reference,
                description=description,
            )
            created["use_cases"] += 1
    return created


def _seed_packs(actor: Any) -> None:
    from policy.services import policy_create, rule_create, version_create_draft, version_publish

    for pack in PACKS:
        policy = Policy.objects.filter(slug=pack["slug"]).first()
        if policy is None:
            policy = policy_create(
                actor=actor,
                slug=pack["slug"],
                name=pack["name"],
                description=pack["description"],
                mode=pack["mode"],
            )
        if policy.active_version_id is not None or policy.versions.exists():
            continue
        version = version_create_draft(actor=actor, policy=policy, notes="Built-in pack")
        version.params = pack["params"]
        version.save(update_fields=["params"])
        for position, rule in enumerate(pack["rules"], start=1):
            rule_create(actor=actor, version=version, position=position, **rule)
        version_publish(actor=actor, version=version, reevaluate=False)


def _seed_deployments(owner: Any, team: Any) -> None:
    from policy.services import deployment_create

    now = timezone.now()
    for slug, model, env, region, hosting, use_case, data, extra in DEMO_DEPLOYMENTS:
        if Deployment.objects.filter(slug=slug).exists():
            continue
        try:
            version = resolve_version(model, None, now)
        except Unprocessable:
            # The registry seed (which runs first) has not created this model here.
            logger.info("demo deployment %s skipped: no model %s", slug, model)
            continue
        deployment_create(
            actor=owner,
            slug=slug,
            model_version=version,
            environment=env,
            region=region,
            hosting=hosting,
            use_case=use_case,
            data_classes=data,
            team=team,
            source="seed",
            **extra,
        )


def seed_reference() -> None:
    """The region and use-case catalogs. Other apps' demo data names them (an approval
    condition names a use case, which must exist), so seed_demo loads them first."""
    created = _seed_catalogs()
    if any(created.values()):
        record_event(actor="seed_demo", action="policy.catalog_seeded", changes=created)


def seed(*, users: dict[str, Any], teams: dict[str, Any]) -> None:
    seed_reference()
    _seed_packs(users["ciso"])
    _seed_deployments(users["owner"], teams.get("ml-platform"))
