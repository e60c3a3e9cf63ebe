"""The permission matrix: every route × every kind of caller → the status it must get.

``TABLE`` has one entry per URL name (walked from ``config.urls``); each entry lists the
HTTP methods the route serves and, per method, who may use it:

    "registry:model-detail": Route(
        kind="ui",                                  # ui | api | public
        kwargs=lambda ctx: {"slug": ctx.model().slug},   # builds the path arguments
        methods={
            "GET": Access(ok=200),                  # every role may read
            "POST": Access(ok=302, roles=OWNERS, body=lambda ctx: {...}),
        },
    ),

and for the API, ``Access(ok=200, scope="registry:read", roles=...)``: the token scope the
method needs (``scope=None``: tokens are refused there, it is session-only; a tuple: any
one of these scopes will do).

What is derived, not written per entry:
- anonymous: pages redirect to the login (302), the API answers 401, public routes ``ok``;
- a session user: ``ok`` if their role is in ``roles``, else ``denied`` (403 by default);
- a token on a page: ignored, exactly like an anonymous visitor;
- a token on the API: ``ok`` only with the method's scope AND an owner whose role is in
  ``roles``; otherwise 403 (``denied`` when only the role is missing);
- ``overrides={"session:viewer": 404}`` states any exception explicitly.

Callers (``PRINCIPALS``): anonymous; a session for each role; a token with every scope for
each role; a token with exactly one scope (owned by an admin) for each scope. Pages and
public routes ignore tokens, so there one token (``token:admin``, every scope) stands for
all twelve: it proves a page treats a bearer like an anonymous visitor.

Builders (``tests/matrix_builders.py``) create, per case, the objects a path names: what the
caller owns belongs to the caller (their team's model, their deployment, their signing
job); what the caller decides was requested by someone else. Write methods carry bodies
that succeed for the allowed callers, and state machines get a fresh object per case, so
each row proves the allowed path as well as the refusals.

``test_every_route_is_in_the_table`` fails when a route is missing from the table, so a new
endpoint cannot ship without its row. Entries whose route does not exist (yet) are skipped,
so rows can be written before the feature is merged. A route whose path names an action
(``registry:version-action``) has one entry per action, ``"name[action]"``.

Design choices the table encodes (each is deliberate, not an accident of the code):
- every role reads the whole registry, policies, deployments, waivers and decisions,
  including the approval queue (deciding is what is restricted, not seeing the queue);
- only auditors and admins read the audit trail (approvers do not: audit/roles.py);
- model owners see only their own signing jobs; approvers, auditors and admins all of
  them; someone else's job is a 404, not a 403 (its existence is not disclosed);
- edit forms (``GET`` of a rule or deployment form, the card import form) render for every
  reader; the write itself is refused with 403;
- scopes do not imply each other except in the policy API, where ``policy:write`` also
  reads (policy/api/views.py); ``registry:write`` does not read, ``audit:export`` only
  downloads and requests exports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import pytest
from django.contrib.admindocs.views import simplify_regex
from django.contrib.messages import ERROR, get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from accounts.roles import ADMIN, APPROVER, AUDITOR, MODEL_OWNER, ROLES
from accounts.scopes import SCOPES
from accounts.services import token_create
from tests.factories import UserFactory
from tests.matrix_builders import LM_EVAL_RESULTS, MODEL_CARD, RULE, Ctx, png_bytes, serial
from tests.routes import route_exists

ALL_ROLES = frozenset(ROLES)
READERS = ALL_ROLES  # roles.py: every role reads the registry, policies and deployments
OWNERS = frozenset({ADMIN, MODEL_OWNER})
DECIDERS = frozenset({ADMIN, APPROVER})
AUDITORS = frozenset({ADMIN, AUDITOR})  # audit/roles.py: nobody else reads the trail
WAIVER_REQUESTERS = frozenset({ADMIN, APPROVER, MODEL_OWNER})
DEPRECATORS = frozenset({ADMIN, APPROVER, MODEL_OWNER})  # the model's owners or a decider
JOB_READERS = frozenset({ADMIN, APPROVER, AUDITOR, MODEL_OWNER})  # owners: their own jobs
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

REG_READ, REG_WRITE = "registry:read", "registry:write"
POLICY_READ = ("policy:check", "policy:write")
POLICY_CHECK, POLICY_WRITE = "policy:check", "policy:write"
SIGN = "provenance:sign"
AUDIT_READ, AUDIT_EXPORT = "audit:read", "audit:export"

Builder = Callable[[Ctx], dict[str, Any]]


def no_kwargs(ctx: Ctx) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Access:
    ok: int
    roles: frozenset[str] = ALL_ROLES
    scope: str | tuple[str, ...] | None = None
    denied: int = 403
    anonymous: int | None = None
    body: Builder | None = None
    query: Builder | None = None
    multipart: bool = False
    overrides: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    kind: Literal["ui", "api", "public"]
    methods: Mapping[str, Access]
    kwargs: Builder = no_kwargs
    url: str | None = None  # the URL name when the key names a variant ("name[action]")


def url_name(key: str, route: Route) -> str:
    return route.url or key


def _token_body(ctx: Ctx) -> dict[str, Any]:
    return {"name": "matrix-created", "scopes": ["registry:read"]}


def _in(days: int) -> str:
    return (timezone.now() + timedelta(days=days)).isoformat()


# --- registry ----------------------------------------------------------------------------------


def reg(ok: int = 200, roles: frozenset[str] | None = None, **kw: Any) -> Access:
    """A registry API method: every role reads (registry:read); writes name their roles."""
    if roles is None:
        return Access(ok, READERS, REG_READ, **kw)
    return Access(ok, roles, REG_WRITE, **kw)


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
    return Route(
        "ui",
        {"POST": Access(302, roles=access.roles, body=lambda ctx: form)},
        kwargs=kwargs,
        url="registry:version-action",
    )


def api_transition(state: str, roles: frozenset[str], body: dict[str, Any]) -> Route:
    def kwargs(ctx: Ctx) -> dict[str, Any]:
        version = {"draft": ctx.version, "submitted": ctx.submitted, "approved": ctx.approved}
        return {"pk": version[state]().pk}

    return Route(
        "api",
        {"POST": Access(200, roles=roles, scope=REG_WRITE, body=lambda ctx: body)},
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

# --- policy ------------------------------------------------------------------------------------


def pol(ok: int = 200, roles: frozenset[str] | None = None, **kw: Any) -> Access:
    """A policy API method: every role reads (policy:check or policy:write); writes name
    their roles and need policy:write."""
    if roles is None:
        return Access(ok, READERS, POLICY_READ, **kw)
    return Access(ok, roles, POLICY_WRITE, **kw)


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
    "policy:version-params": Route(
        "ui",
        {
            "GET": Access(200),
            "POST": Access(302, DECIDERS, body=lambda ctx: {"params": "{}", "notes": "Edited."}),
        },
        kwargs=draft_kwargs,
    ),
    "policy:version-publish": Route("ui", {"POST": Access(302, DECIDERS)}, kwargs=draft_kwargs),
    "policy:version-simulate": Route("ui", {"POST": Access(200, DECIDERS)}, kwargs=draft_kwargs),
    "policy:rule-new": Route(
        "ui",
        {"GET": Access(200), "POST": Access(302, DECIDERS, body=new_rule)},
        kwargs=draft_kwargs,
    ),
    "policy:rule-edit": Route(
        "ui",
        {
            "GET": Access(200),
            "POST": Access(302, DECIDERS, body=lambda ctx: {**RULE, "message": "Edited."}),
        },
        kwargs=rule_kwargs,
    ),
    "policy:rule-delete": Route("ui", {"POST": Access(302, DECIDERS)}, kwargs=rule_kwargs),
    "policy:deployment-list": Route("ui", {"GET": Access(200)}),
    "policy:deployment-new": Route(
        "ui", {"GET": Access(200), "POST": Access(302, OWNERS, body=deployment_form)}
    ),
    "policy:deployment-detail": Route("ui", {"GET": Access(200)}, kwargs=deployment_page_kwargs),
    "policy:deployment-edit": Route(
        "ui",
        {"GET": Access(200), "POST": Access(302, OWNERS, body=deployment_form)},
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

# --- provenance --------------------------------------------------------------------------------


def job_kwargs(ctx: Ctx) -> dict[str, Any]:
    return {"pk": ctx.signing_job().pk}


def verify_body(ctx: Ctx) -> dict[str, Any]:
    return {"file": SimpleUploadedFile("check.png", png_bytes(), "image/png")}


def sign_form(ctx: Ctx) -> dict[str, Any]:
    body = ctx.sign_body()
    return {"uploads": body.pop("files"), **body}


PROVENANCE: dict[str, Route] = {
    "provenance-api-sign": Route(
        "api", {"POST": Access(202, OWNERS, SIGN, body=lambda ctx: ctx.sign_body(), multipart=True)}
    ),
    "provenance-api-job-list": Route("api", {"GET": Access(200, scope=SIGN)}),
    "provenance-api-job-detail": Route(
        "api", {"GET": Access(200, JOB_READERS, SIGN, denied=404)}, kwargs=job_kwargs
    ),
    "provenance-api-job-download": Route(
        "api", {"GET": Access(200, JOB_READERS, SIGN, denied=404)}, kwargs=job_kwargs
    ),
    # Verifying a file is open to every role (a token still needs provenance:sign).
    "provenance-api-verify": Route(
        "api", {"POST": Access(200, scope=SIGN, body=verify_body, multipart=True)}
    ),
    # --- pages ---
    "provenance:job-list": Route(
        "ui",
        {"GET": Access(200), "POST": Access(302, OWNERS, body=sign_form, multipart=True)},
    ),
    "provenance:job-detail": Route(
        "ui", {"GET": Access(200, JOB_READERS, denied=404)}, kwargs=job_kwargs
    ),
    "provenance:job-download": Route(
        "ui", {"GET": Access(200, JOB_READERS, denied=404)}, kwargs=job_kwargs
    ),
    "provenance:verify": Route(
        "ui", {"GET": Access(200), "POST": Access(200, body=verify_body, multipart=True)}
    ),
}

# --- audit -------------------------------------------------------------------------------------


def audit_read(**kw: Any) -> Access:
    return Access(200, AUDITORS, AUDIT_READ, **kw)


def export_kwargs(ctx: Ctx) -> dict[str, Any]:
    return {"pk": ctx.audit_export().pk}


AUDIT: dict[str, Route] = {
    "api-audit-events": Route("api", {"GET": audit_read()}),
    "api-audit-event-detail": Route(
        "api", {"GET": audit_read()}, kwargs=lambda ctx: {"seq": ctx.audit_event().seq}
    ),
    "api-audit-checkpoints": Route("api", {"GET": audit_read()}),
    "api-audit-keys": Route("api", {"GET": audit_read()}),
    "api-audit-verify": Route("api", {"GET": audit_read()}),
    "api-audit-exports": Route(
        "api",
        {
            "GET": audit_read(),
            "POST": Access(202, AUDITORS, AUDIT_EXPORT, body=lambda ctx: {"format": "jsonl"}),
        },
    ),
    "api-audit-export-detail": Route("api", {"GET": audit_read()}, kwargs=export_kwargs),
    "api-audit-export-download": Route(
        "api", {"GET": Access(200, AUDITORS, AUDIT_EXPORT)}, kwargs=export_kwargs
    ),
    # --- pages ---
    "audit:event-list": Route("ui", {"GET": Access(200, AUDITORS)}),
    "audit:event-detail": Route(
        "ui", {"GET": Access(200, AUDITORS)}, kwargs=lambda ctx: {"seq": ctx.audit_event().seq}
    ),
    "audit:verify": Route("ui", {"POST": Access(302, AUDITORS)}),
    "audit:export-list": Route(
        "ui",
        {
            "GET": Access(200, AUDITORS),
            "POST": Access(302, AUDITORS, body=lambda ctx: {"format": "jsonl"}),
        },
    ),
    "audit:export-row": Route("ui", {"GET": Access(200, AUDITORS)}, kwargs=export_kwargs),
    "audit:export-download": Route("ui", {"GET": Access(200, AUDITORS)}, kwargs=export_kwargs),
}

# --- someone else's objects -------------------------------------------------------------------
# The rows above give owners their own objects. These give them another team's (model,
# version, deployment, signing job): what only the owners may do, only admins (and, where
# the role decides anyway, approvers) may do to someone else's.


def other_team(key: str, route: Route, **methods: Access) -> tuple[str, Route]:
    def kwargs(ctx: Ctx) -> dict[str, Any]:
        ctx.stranger = True
        return route.kwargs(ctx)

    return f"{key}[other-team]", Route(route.kind, methods, kwargs=kwargs, url=route.url or key)


ADMINS = frozenset({ADMIN})

OTHER_TEAMS: dict[str, Route] = dict(
    [
        other_team(
            "api-model-list", REGISTRY["api-model-list"], POST=reg(201, ADMINS, body=new_model_body)
        ),
        other_team(
            "api-model-detail",
            REGISTRY["api-model-detail"],
            PATCH=reg(200, ADMINS, body=lambda ctx: {"description": "Edited."}),
        ),
        other_team(
            "api-model-versions",
            REGISTRY["api-model-versions"],
            POST=reg(201, ADMINS, body=lambda ctx: {"label": f"m{serial()}"}),
        ),
        other_team(
            "api-version-submit",
            REGISTRY["api-version-submit"],
            POST=reg(200, ADMINS, body=lambda ctx: {"justification": "Ready."}),
        ),
        other_team(
            "api-version-deprecate",
            REGISTRY["api-version-deprecate"],
            POST=reg(200, DECIDERS, body=lambda ctx: {"reason": "Superseded."}),
        ),
        other_team(
            "api-version-evals",
            REGISTRY["api-version-evals"],
            POST=reg(
                201, ADMINS, body=lambda ctx: {"benchmark": "mmlu", "metric": "acc", "value": 6.0}
            ),
        ),
        other_team(
            "api-deployment",
            POLICY["api-deployment"],
            PATCH=pol(200, ADMINS, body=lambda ctx: {"name": "Renamed"}),
        ),
        other_team(
            "api-deployment-evaluate", POLICY["api-deployment-evaluate"], POST=pol(200, ADMINS)
        ),
        other_team(
            "policy:deployment-edit",
            POLICY["policy:deployment-edit"],
            POST=Access(302, ADMINS, body=deployment_form),
        ),
        other_team(
            "provenance-api-job-detail",
            PROVENANCE["provenance-api-job-detail"],
            GET=Access(200, JOB_READERS - {MODEL_OWNER}, SIGN, denied=404),
        ),
        other_team(
            "provenance:job-download",
            PROVENANCE["provenance:job-download"],
            GET=Access(200, JOB_READERS - {MODEL_OWNER}, denied=404),
        ),
    ]
)

SIGNED_IN = {f"session:{role}": 302 for role in ROLES}

TABLE: dict[str, Route] = {
    # --- site -------------------------------------------------------------------------------
    "dashboard": Route("ui", {"GET": Access(200)}),
    "healthz": Route("public", {"GET": Access(200)}),
    "readyz": Route("public", {"GET": Access(200)}),
    # --- accounts ---------------------------------------------------------------------------
    "accounts:login": Route(
        "public",
        {
            # A signed-in user is sent on to the dashboard.
            "GET": Access(200, overrides=SIGNED_IN),
            "POST": Access(
                200,
                body=lambda ctx: {"username": "nobody", "password": "wrong"},
                overrides=SIGNED_IN,
            ),
        },
    ),
    "accounts:logout": Route("public", {"POST": Access(302)}),
    "accounts:tokens": Route(
        "ui",
        {
            "GET": Access(200),
            "POST": Access(200, body=lambda ctx: {"name": "matrix-ui", "scopes": ["policy:check"]}),
        },
    ),
    "accounts:token-revoke": Route(
        "ui", {"POST": Access(302)}, kwargs=lambda ctx: {"pk": ctx.token().pk}
    ),
    "api-me": Route("api", {"GET": Access(200, scope="registry:read")}),
    # Tokens are managed from a browser session only: a token cannot mint tokens.
    "api-tokens": Route("api", {"GET": Access(200), "POST": Access(201, body=_token_body)}),
    "api-token-detail": Route(
        "api",
        {"GET": Access(200), "DELETE": Access(200)},
        kwargs=lambda ctx: {"pk": ctx.token().pk},
    ),
    **REGISTRY,
    **POLICY,
    **PROVENANCE,
    **AUDIT,
    **OTHER_TEAMS,
}

# Routes that are not the product's own surface, excluded on purpose.
EXCLUDED_NAMESPACES = {"admin"}
EXCLUDED_NAMES = {"api-schema", "api-docs"}  # public documentation of the API itself
EXCLUDED_VIEWS = {"config.views.api_not_found", "django.views.static.serve"}

PRINCIPALS: list[str] = [
    "anonymous",
    *(f"session:{role}" for role in ROLES),
    *(f"token:{role}" for role in ROLES),
    *(f"scope:{scope}" for scope in SCOPES),
]
# Pages ignore bearer tokens: one token (every scope, an admin's) stands for all of them.
PAGE_PRINCIPALS: list[str] = [
    p for p in PRINCIPALS if not p.startswith(("token:", "scope:")) or p == f"token:{ADMIN}"
]


def walk_routes(
    patterns: list[URLPattern | URLResolver] | None = None, prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str | None, str, str]]:
    """(qualified name or None, path, view dotted path) for every URL pattern."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            if ns in EXCLUDED_NAMESPACES:
                continue
            qualified = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from walk_routes(entry.url_patterns, prefix + str(entry.pattern), qualified)
        else:
            callback = entry.callback
            view = (
                getattr(callback, "view_class", None) or getattr(callback, "cls", None) or callback
            )
            dotted = f"{view.__module__}.{view.__qualname__}"
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield name, simplify_regex(prefix + str(entry.pattern)), dotted


def test_every_route_is_in_the_table() -> None:
    covered = {url_name(key, route) for key, route in TABLE.items()}
    unnamed, missing = [], []
    for name, path, view in walk_routes():
        if view in EXCLUDED_VIEWS or name in EXCLUDED_NAMES:
            continue
        if name is None:
            unnamed.append(f"{path} ({view})")
        elif name not in covered:
            missing.append(f"{name}  {path}  ({view})")
    assert not unnamed, "every route needs a name to be in the permission matrix:\n" + "\n".join(
        unnamed
    )
    assert not missing, (
        "routes missing from the permission matrix (tests/test_permission_matrix.py TABLE):\n"
        + "\n".join(missing)
    )


def test_every_action_of_an_action_route_is_in_the_table() -> None:
    """Routes whose path names an action list every action the view knows."""
    from registry.views import ACTIONS

    def actions(url: str) -> set[str]:
        return {key.partition("[")[2].rstrip("]") for key, r in TABLE.items() if r.url == url}

    assert actions("registry:version-action") == set(ACTIONS)
    assert actions("policy:waiver-action") == {"approve", "reject", "revoke"}


def test_the_table_lists_every_method_an_api_route_serves(admin_user: User) -> None:
    """A method the table does not list must be refused (405), so none is served unchecked."""
    client = APIClient()
    client.force_login(admin_user)
    served: dict[str, set[str]] = {}
    for key, route in TABLE.items():
        served.setdefault(url_name(key, route), set()).update(route.methods)
    for key, route in TABLE.items():
        name = url_name(key, route)
        if route.kind != "api" or route.url or not route_exists(name):
            continue
        path = _reverse(name, route.kwargs(Ctx(admin_user)))
        for method in METHODS:
            if method in served[name]:
                continue
            response = client.generic(method, path, data="{}", content_type="application/json")
            assert response.status_code == 405, f"{method} {path} answers {response.status_code}"


def expected_status(route: Route, access: Access, principal: str) -> int:
    if principal in access.overrides:
        return access.overrides[principal]
    kind, _, who = principal.partition(":")
    if kind == "anonymous" or (kind in ("token", "scope") and route.kind != "api"):
        # Pages and public routes ignore bearer tokens: the caller is anonymous there.
        if route.kind == "public":
            return access.ok
        if access.anonymous is not None:
            return access.anonymous
        return 302 if route.kind == "ui" else 401
    if kind == "session":
        return access.ok if who in access.roles else access.denied
    # An API token: the method's scope and the owner's role must both allow it.
    held = set(SCOPES) if kind == "token" else {who}
    owner_role = who if kind == "token" else ADMIN
    wanted = {access.scope} if isinstance(access.scope, str) else set(access.scope or ())
    if not wanted & held:
        return 403
    return access.ok if owner_role in access.roles else access.denied


def _reverse(name: str, kwargs: dict[str, Any]) -> str:
    from django.urls import reverse

    return reverse(name, kwargs=kwargs or None)


def _cases() -> Iterator[Any]:
    for key, route in TABLE.items():
        principals = PRINCIPALS if route.kind == "api" else PAGE_PRINCIPALS
        for method in route.methods:
            for principal in principals:
                yield pytest.param(key, method, principal, id=f"{key}-{method}-{principal}")


def _caller(principal: str, route: Route) -> tuple[Client, User | None]:
    kind, _, who = principal.partition(":")
    client: Client = APIClient() if route.kind == "api" else Client()
    if kind == "anonymous":
        return client, None
    role = who if kind in ("session", "token") else ADMIN
    user = UserFactory(username=f"matrix-{role}", roles=[role])
    if kind == "session":
        client.force_login(user)
        return client, user
    scopes = list(SCOPES) if kind == "token" else [who]
    _, secret = token_create(actor=user, owner=user, name="matrix-caller", scopes=scopes)
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    return client, user


@pytest.fixture
def _matrix_dirs(settings: Any, tmp_path: Path) -> None:
    """Keys, checkpoints and export bundles of this case live in its own folder."""
    settings.STEWARD_AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"
    settings.STEWARD_AUDIT_EXPORT_DIR = tmp_path / "exports"
    settings.STEWARD_AUDIT_PUBLIC_KEYS_DIR = tmp_path / "public-keys"
    settings.STEWARD_AUDIT_DEV_KEY_FILE = tmp_path / "keys" / "audit-signing.pem"
    settings.STEWARD_AUDIT_SIGNING_KEY = None
    settings.PROVENANCE_KEYS_DIR = tmp_path / "provenance-keys"


@pytest.mark.django_db
@pytest.mark.usefixtures("_matrix_dirs")
@pytest.mark.parametrize(("key", "method", "principal"), list(_cases()))
def test_permission_matrix(key: str, method: str, principal: str) -> None:
    route = TABLE[key]
    name = url_name(key, route)
    if not route_exists(name):
        pytest.skip(f"route {name!r} does not exist yet (feature not merged)")
    access = route.methods[method]
    client, actor = _caller(principal, route)
    ctx = Ctx(actor)
    path = _reverse(name, route.kwargs(ctx))
    body = access.body(ctx) if access.body else None
    query = access.query(ctx) if access.query else None
    if method == "GET":
        response = client.get(path, data=query)
    elif access.multipart and route.kind == "api":
        response = client.post(path, data=body or {}, format="multipart")  # type: ignore[call-arg]
    elif access.multipart:
        response = client.post(path, data=body or {})  # the test Client sends multipart
    elif route.kind == "api":
        response = client.generic(method, path, data=_json(body), content_type="application/json")
    else:
        response = client.generic(method, path, data=_form(body), content_type=_FORM)
    want = expected_status(route, access, principal)
    assert response.status_code == want, (
        f"{method} {path} as {principal}: {response.status_code}, expected {want}\n"
        f"{_content(response)[:400]!r}"
    )
    if route.kind == "api" and response.status_code >= 400:
        assert set(response.json()["error"]) == {"code", "message", "fields"}
    if route.kind == "ui" and method != "GET" and want < 400:
        # Pages answer a refused state change with a flash message and a redirect too: the
        # allowed path must not have been one.
        errors = [str(m) for m in get_messages(response.wsgi_request) if m.level >= ERROR]
        assert not errors, f"{method} {path} as {principal} flashed {errors}"
    if want == 302 and route.kind == "ui" and principal.startswith(("anonymous", "token:")):
        assert response["Location"].startswith("/login/")


def _content(response: Any) -> bytes:
    if getattr(response, "streaming", False):
        return b"<streamed>"
    return response.content  # type: ignore[no-any-return]


_FORM = "application/x-www-form-urlencoded"


def _json(body: dict[str, Any] | None) -> str:
    import json

    return json.dumps(body) if body is not None else ""


def _form(body: dict[str, Any] | None) -> str:
    from urllib.parse import urlencode

    return urlencode(body or {}, doseq=True)
