"""Permission-matrix rows of the registry (issue 3): API and pages."""

from __future__ import annotations

from typing import Any

from tests.matrix.access import DECIDERS, DEPRECATORS, OWNERS, REG_WRITE, Access, Route, reg
from tests.matrix.builders import LM_EVAL_RESULTS, MODEL_CARD, Ctx, serial


def model_kwargs(ctx: Ctx) -> dict[str, Any]:
    return {"slug": ctx.model().slug}


def version_kwargs(ctx: Ctx) -> dict[str, Any]:
    return {"pk": ctx.version().pk}


def new_model_body(ctx: Ctx) -> dict[str, Any]:
    return {
        "slug": f"matrix-new-{serial()}",
        "name": "Matrix new model",
        "provider": "Acme AI",
        "provider_jurisdiction": "FR",
        "access": "open_weights",
        "license": ctx.license().spdx_id,
        "owner_team": ctx.team().slug,
    }


def card_body(ctx: Ctx) -> dict[str, Any]:
    ctx.license()
    return {
        "content": MODEL_CARD,
        "slug": f"matrix-card-{serial()}",
        "name": "Matrix card",
        "provider": "Acme AI",
        "provider_jurisdiction": "FR",
        "owner_team": ctx.team().slug,
        "version_label": "1.0",
    }


def card_confirm_form(ctx: Ctx) -> dict[str, Any]:
    return {
        **card_body(ctx),
        "step": "confirm",
        "license": ctx.license().spdx_id,
    }


def compare_ids(ctx: Ctx) -> dict[str, Any]:
    return {"ids": f"{ctx.version().pk},{ctx.version().pk}"}


def version_action(
    action: str, state: str, access: Access, body: dict[str, Any] | None = None
) -> Route:
    """One page-route entry per action of /model-versions/<pk>/<action>/."""

    def kwargs(ctx: Ctx) -> dict[str, Any]:
        version = {"draft": ctx.version, "submitted": ctx.submitted, "approved": ctx.approved}
        return {"pk": version[state]().pk, "action": action}

    form = dict(body or {})

    def with_catalog(ctx: Ctx) -> dict[str, Any]:
        # Approval conditions name catalog regions: the form refuses an unknown one.
        ctx.catalog()
        return form

    return Route(
        "ui",
        {"POST": Access(302, roles=access.roles, body=with_catalog)},
        kwargs=kwargs,
        url="registry:version-action",
    )


def api_transition(state: str, roles: frozenset[str], body: dict[str, Any]) -> Route:
    def kwargs(ctx: Ctx) -> dict[str, Any]:
        version = {"draft": ctx.version, "submitted": ctx.submitted, "approved": ctx.approved}
        return {"pk": version[state]().pk}

    def with_catalog(ctx: Ctx) -> dict[str, Any]:
        # Approval conditions name catalog regions: the service refuses an unknown one.
        ctx.catalog()
        return body

    return Route(
        "api",
        {"POST": Access(200, roles=roles, scope=REG_WRITE, body=with_catalog)},
        kwargs=kwargs,
    )


RISK_OVERRIDE = {"grade": "high", "justification": "Matrix: a reviewed finding."}

REGISTRY: dict[str, Route] = {
    "api-model-list": Route("api", {"GET": reg(), "POST": reg(201, OWNERS, body=new_model_body)}),
    "api-model-import-card": Route("api", {"POST": reg(201, OWNERS, body=card_body)}),
    "api-model-detail": Route(
        "api",
        {"GET": reg(), "PATCH": reg(200, OWNERS, body=lambda ctx: {"description": "Edited."})},
        kwargs=model_kwargs,
    ),
    "api-model-versions": Route(
        "api",
        {"GET": reg(), "POST": reg(201, OWNERS, body=lambda ctx: {"label": f"m{serial()}"})},
        kwargs=model_kwargs,
    ),
    "api-model-version-compare": Route("api", {"GET": reg(query=compare_ids)}),
    "api-version-detail": Route("api", {"GET": reg()}, kwargs=version_kwargs),
    "api-version-facts": Route("api", {"GET": reg()}, kwargs=version_kwargs),
    "api-version-submit": api_transition("draft", OWNERS, {"justification": "Ready."}),
    "api-version-approve": api_transition(
        "submitted", DECIDERS, {"conditions": {"regions": ["eu-west-1"]}, "comment": "Fine."}
    ),
    "api-version-reject": api_transition("submitted", DECIDERS, {"comment": "No."}),
    "api-version-request-changes": api_transition("submitted", DECIDERS, {"comment": "More."}),
    "api-version-revoke": api_transition("approved", DECIDERS, {"reason": "A finding."}),
    "api-version-deprecate": api_transition("approved", DEPRECATORS, {"reason": "Superseded."}),
    "api-version-risk-override": api_transition("draft", DECIDERS, RISK_OVERRIDE),
    "api-version-evals": Route(
        "api",
        {
            "GET": reg(),
            "POST": reg(
                201,
                OWNERS,
                body=lambda ctx: {"benchmark": "mmlu", "metric": "acc", "value": 61.0},
            ),
        },
        kwargs=version_kwargs,
    ),
    "api-version-evals-import": Route(
        "api", {"POST": reg(201, OWNERS, body=lambda ctx: LM_EVAL_RESULTS)}, kwargs=version_kwargs
    ),
    "api-version-aibom": Route("api", {"GET": reg()}, kwargs=version_kwargs),
    "api-approval-queue": Route("api", {"GET": reg()}),
    "api-license-list": Route(
        "api",
        {
            "GET": reg(),
            "POST": reg(
                201,
                DECIDERS,
                body=lambda ctx: {
                    "spdx_id": f"LicenseRef-matrix-{serial()}",
                    "name": "Matrix licence",
                    "category": "permissive",
                },
            ),
        },
    ),
    "api-license-detail": Route(
        "api", {"GET": reg()}, kwargs=lambda ctx: {"spdx_id": ctx.license().spdx_id}
    ),
    # --- pages ---
    "registry:model-list": Route("ui", {"GET": Access(200)}),
    "registry:model-import": Route(
        "ui", {"GET": Access(200), "POST": Access(302, roles=OWNERS, body=card_confirm_form)}
    ),
    "registry:model-compare": Route(
        "ui", {"GET": Access(200, query=lambda ctx: {"v": [ctx.version().pk, ctx.version().pk]})}
    ),
    "registry:model-detail": Route("ui", {"GET": Access(200)}, kwargs=model_kwargs),
    "registry:version-aibom": Route("ui", {"GET": Access(200)}, kwargs=version_kwargs),
    "registry:version-action[submit]": version_action(
        "submit", "draft", Access(302, OWNERS), {"justification": "Ready."}
    ),
    "registry:version-action[approve]": version_action(
        "approve", "submitted", Access(302, DECIDERS), {"regions": "eu-west-1"}
    ),
    "registry:version-action[reject]": version_action(
        "reject", "submitted", Access(302, DECIDERS), {"comment": "No."}
    ),
    "registry:version-action[request-changes]": version_action(
        "request-changes", "submitted", Access(302, DECIDERS), {"comment": "More."}
    ),
    "registry:version-action[revoke]": version_action(
        "revoke", "approved", Access(302, DECIDERS), {"reason": "A finding."}
    ),
    "registry:version-action[deprecate]": version_action(
        "deprecate", "approved", Access(302, DEPRECATORS), {"reason": "Superseded."}
    ),
    "registry:version-action[risk-override]": version_action(
        "risk-override", "draft", Access(302, DECIDERS), RISK_OVERRIDE
    ),
    # Every role reads the queue; only deciders get the buttons (and may POST).
    "registry:approval-queue": Route("ui", {"GET": Access(200)}),
}
