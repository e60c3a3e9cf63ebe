"""Permission-matrix rows of policies, deployments, waivers and decisions (issue 4)."""

from __future__ import annotations

from typing import Any

from tests.matrix.access import (
    DECIDERS,
    OWNERS,
    POLICY_CHECK,
    WAIVER_REQUESTERS,
    Access,
    Route,
    _in,
    pol,
)
from tests.matrix.builders import RULE, Ctx, serial


def policy_kwargs(ctx: Ctx) -> dict[str, Any]:
    return {"slug": ctx.policy().slug}


def active_kwargs(ctx: Ctx) -> dict[str, Any]:
    return {"slug": ctx.policy().slug, "number": ctx.policy().active_version.number}


def draft_kwargs(ctx: Ctx) -> dict[str, Any]:
    draft = ctx.policy_draft()
    return {"slug": draft.policy.slug, "number": draft.number}


def rule_kwargs(ctx: Ctx) -> dict[str, Any]:
    return {**draft_kwargs(ctx), "rule_id": RULE["rule_id"]}


def deployment_kwargs(ctx: Ctx) -> dict[str, Any]:
    return {"reference": ctx.deployment().slug}


def deployment_page_kwargs(ctx: Ctx) -> dict[str, Any]:
    return {"slug": ctx.deployment().slug}


def new_deployment_body(ctx: Ctx) -> dict[str, Any]:
    return {**ctx.deployment_fields(), "model": ctx.usable_version().model.slug}


def deployment_form(ctx: Ctx) -> dict[str, Any]:
    fields = ctx.deployment_fields()
    return {
        **fields,
        "name": "Matrix deployment",
        "model_version": ctx.usable_version().pk,
        "data_subject_region": "EU",
        "commercial": "on",
    }


def waiver_body(ctx: Ctx) -> dict[str, Any]:
    return {
        "policy": ctx.policy().slug,
        "rule_id": RULE["rule_id"],
        "deployment": ctx.deployment().slug,
        "justification": "Matrix pilot.",
        "expires_at": _in(30),
    }


def check_body(ctx: Ctx) -> dict[str, Any]:
    fields = ctx.deployment_fields()
    return {
        "model": ctx.usable_version().model.slug,
        "environment": fields["environment"],
        "region": fields["region"],
        "use_case": fields["use_case"],
        "data_classification": fields["data_classes"],
    }


def new_rule(ctx: Ctx) -> dict[str, Any]:
    return {**RULE, "rule_id": f"matrix-rule-{serial()}"}


def waiver_action(action: str, approved: bool) -> Route:
    return Route(
        "ui",
        {"POST": Access(302, roles=DECIDERS, body=lambda ctx: {"comment": "Matrix."})},
        kwargs=lambda ctx: {"pk": ctx.waiver(approved=approved).pk, "action": action},
        url="policy:waiver-action",
    )


def api_waiver_action(approved: bool) -> Route:
    return Route(
        "api",
        {"POST": pol(200, DECIDERS, body=lambda ctx: {"comment": "Matrix."})},
        kwargs=lambda ctx: {"pk": ctx.waiver(approved=approved).pk},
    )


POLICY: dict[str, Route] = {
    "api-policy-ping": Route("api", {"GET": Access(200, scope=POLICY_CHECK)}),
    # Every role may ask for a decision; a token needs policy:check (policy:write is not enough).
    "api-policy-check": Route("api", {"POST": Access(200, scope=POLICY_CHECK, body=check_body)}),
    "api-policy-decisions": Route("api", {"GET": pol()}),
    "api-policy-decision": Route(
        "api", {"GET": pol()}, kwargs=lambda ctx: {"decision_id": ctx.decision().decision_id}
    ),
    "api-policies": Route(
        "api",
        {
            "GET": pol(),
            "POST": pol(
                201,
                DECIDERS,
                body=lambda ctx: {"slug": f"matrix-new-policy-{serial()}", "name": "New"},
            ),
        },
    ),
    "api-policy": Route(
        "api",
        {"GET": pol(), "PATCH": pol(200, DECIDERS, body=lambda ctx: {"description": "Edited."})},
        kwargs=policy_kwargs,
    ),
    "api-policy-versions": Route(
        "api",
        {"GET": pol(), "POST": pol(201, DECIDERS, body=lambda ctx: {"notes": "Next."})},
        kwargs=policy_kwargs,
    ),
    "api-policy-version": Route(
        "api",
        {"GET": pol(), "PATCH": pol(200, DECIDERS, body=lambda ctx: {"notes": "Edited."})},
        kwargs=draft_kwargs,
    ),
    "api-policy-version-publish": Route("api", {"POST": pol(200, DECIDERS)}, kwargs=draft_kwargs),
    "api-policy-version-simulate": Route("api", {"POST": pol(200, DECIDERS)}, kwargs=draft_kwargs),
    "api-policy-version-diff": Route("api", {"GET": pol()}, kwargs=draft_kwargs),
    "api-policy-rules": Route(
        "api", {"GET": pol(), "POST": pol(201, DECIDERS, body=new_rule)}, kwargs=draft_kwargs
    ),
    "api-policy-rule": Route(
        "api",
        {
            "GET": pol(),
            "PATCH": pol(200, DECIDERS, body=lambda ctx: {"message": "Edited."}),
            "DELETE": pol(204, DECIDERS),
        },
        kwargs=rule_kwargs,
    ),
    "api-deployments": Route(
        "api", {"GET": pol(), "POST": pol(201, OWNERS, body=new_deployment_body)}
    ),
    "api-deployment": Route(
        "api",
        {"GET": pol(), "PATCH": pol(200, OWNERS, body=lambda ctx: {"name": "Renamed"})},
        kwargs=deployment_kwargs,
    ),
    "api-deployment-evaluate": Route("api", {"POST": pol(200, OWNERS)}, kwargs=deployment_kwargs),
    "api-waivers": Route(
        "api", {"GET": pol(), "POST": pol(201, WAIVER_REQUESTERS, body=waiver_body)}
    ),
    "api-waiver": Route("api", {"GET": pol()}, kwargs=lambda ctx: {"pk": ctx.waiver().pk}),
    "api-waiver-approve": api_waiver_action(approved=False),
    "api-waiver-reject": api_waiver_action(approved=False),
    "api-waiver-revoke": api_waiver_action(approved=True),
    "api-regions": Route("api", {"GET": pol()}),
    "api-use-cases": Route("api", {"GET": pol()}),
    # --- pages ---
    "policy:policy-list": Route("ui", {"GET": Access(200)}),
    "policy:policy-detail": Route(
        "ui",
        {"GET": Access(200), "POST": Access(302, DECIDERS, body=lambda ctx: {"mode": "audit"})},
        kwargs=policy_kwargs,
    ),
    "policy:version-new": Route("ui", {"POST": Access(302, DECIDERS)}, kwargs=policy_kwargs),
    "policy:version-diff": Route("ui", {"GET": Access(200)}, kwargs=policy_kwargs),
    "policy:version-detail": Route("ui", {"GET": Access(200)}, kwargs=active_kwargs),
    # Form pages answer who could not submit them as the submit would: 403.
    "policy:version-params": Route(
        "ui",
        {
            "GET": Access(200, DECIDERS),
            "POST": Access(302, DECIDERS, body=lambda ctx: {"params": "{}", "notes": "Edited."}),
        },
        kwargs=draft_kwargs,
    ),
    "policy:version-publish": Route("ui", {"POST": Access(302, DECIDERS)}, kwargs=draft_kwargs),
    "policy:version-simulate": Route("ui", {"POST": Access(200, DECIDERS)}, kwargs=draft_kwargs),
    "policy:rule-new": Route(
        "ui",
        {"GET": Access(200, DECIDERS), "POST": Access(302, DECIDERS, body=new_rule)},
        kwargs=draft_kwargs,
    ),
    "policy:rule-edit": Route(
        "ui",
        {
            "GET": Access(200, DECIDERS),
            "POST": Access(302, DECIDERS, body=lambda ctx: {**RULE, "message": "Edited."}),
        },
        kwargs=rule_kwargs,
    ),
    "policy:rule-delete": Route("ui", {"POST": Access(302, DECIDERS)}, kwargs=rule_kwargs),
    "policy:deployment-list": Route("ui", {"GET": Access(200)}),
    "policy:deployment-new": Route(
        "ui", {"GET": Access(200, OWNERS), "POST": Access(302, OWNERS, body=deployment_form)}
    ),
    "policy:deployment-detail": Route("ui", {"GET": Access(200)}, kwargs=deployment_page_kwargs),
    "policy:deployment-edit": Route(
        "ui",
        {"GET": Access(200, OWNERS), "POST": Access(302, OWNERS, body=deployment_form)},
        kwargs=deployment_page_kwargs,
    ),
    "policy:deployment-evaluate": Route(
        "ui", {"POST": Access(302, OWNERS)}, kwargs=deployment_page_kwargs
    ),
    "policy:waiver-list": Route(
        "ui", {"GET": Access(200), "POST": Access(302, WAIVER_REQUESTERS, body=waiver_body)}
    ),
    "policy:waiver-action[approve]": waiver_action("approve", approved=False),
    "policy:waiver-action[reject]": waiver_action("reject", approved=False),
    "policy:waiver-action[revoke]": waiver_action("revoke", approved=True),
    "policy:decision-list": Route("ui", {"GET": Access(200)}),
    "policy:decision-detail": Route(
        "ui", {"GET": Access(200)}, kwargs=lambda ctx: {"decision_id": ctx.decision().decision_id}
    ),
}
