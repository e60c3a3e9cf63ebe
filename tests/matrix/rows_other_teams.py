"""Permission-matrix rows about someone else's objects."""

from __future__ import annotations

from typing import Any

from accounts.roles import ADMIN, MODEL_OWNER
from tests.matrix.access import DECIDERS, JOB_READERS, SIGN, Access, Route, pol, reg
from tests.matrix.builders import Ctx, serial
from tests.matrix.rows_policy import POLICY, deployment_form
from tests.matrix.rows_provenance import PROVENANCE
from tests.matrix.rows_registry import REGISTRY, new_model_body

# The app rows give owners their own objects. These give them another team's (model,
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
            GET=Access(200, ADMINS),  # the form of a deployment one may not edit: 403
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
