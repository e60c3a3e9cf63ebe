"""The model list on 500 models: the annotated, permission-filtered selector plus the API
serializer, against a plain SELECT of the same rows (baseline) in the same process."""

from __future__ import annotations

import time
from typing import Any

N_MODELS = 500
ROUNDS = 5


def _setup() -> Any:
    from django.contrib.auth.models import Group

    from accounts.models import Team, User
    from accounts.roles import sync_role_groups
    from registry.models import AIModel, EvalResult, License, ModelVersion, RiskAssessment

    sync_role_groups()
    user, _ = User.objects.get_or_create(username="bench-viewer")
    user.groups.set(Group.objects.filter(name="viewer"))
    team, _ = Team.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    lic, _ = License.objects.get_or_create(
        spdx_id="Apache-2.0", defaults={"name": "Apache 2.0", "category": "permissive"}
    )
    if not AIModel.objects.filter(slug__startswith="bench-").exists():
        models = AIModel.objects.bulk_create(
            AIModel(
                slug=f"bench-{i}",
                name=f"Bench {i}",
                provider="Bench",
                provider_jurisdiction="US",
                access="open_weights",
                license=lic,
                owner_team=team,
            )
            for i in range(N_MODELS)
        )
        versions = ModelVersion.objects.bulk_create(
            ModelVersion(model=m, label="1", created_by=user) for m in models
        )
        RiskAssessment.objects.bulk_create(
            RiskAssessment(version=v, eu_ai_act_class="gpai", computed_grade="medium", score=30)
            for v in versions
        )
        EvalResult.objects.bulk_create(
            EvalResult(
                version=v, benchmark="mmlu", metric="acc", value=60, source_kind="internal_run"
            )
            for v in versions
        )
    return User.objects.get(pk=user.pk)


def _best(fn: Any) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def run() -> list[dict[str, Any]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from registry.api.serializers import ModelSerializer
    from registry.models import AIModel
    from registry.selectors import models_visible_to

    user = _setup()

    def listing() -> None:
        ModelSerializer(list(models_visible_to(user)), many=True).data  # noqa: B018

    def baseline() -> None:
        list(AIModel.objects.select_related("license").values())

    with CaptureQueriesContext(connection) as queries:
        listing()
    listed = _best(listing)
    plain = _best(baseline)
    ratio = listed / plain
    return [
        {
            "metric": f"model list, {N_MODELS} models (selector + serializer)",
            "value": listed * 1000,
            "unit": "ms",
        },
        {"metric": f"plain SELECT of {N_MODELS} models", "value": plain * 1000, "unit": "ms"},
        {
            "metric": "queries for the model list",
            "value": len(queries),
            "unit": "queries",
            "goal": "<= 5",
            "met": len(queries) <= 5,
        },
        {
            "metric": "list cost ratio (list / plain select)",
            "value": ratio,
            "unit": "x",
            "ratio": ratio,
            "goal": "<= 20",
            "met": ratio <= 20,
        },
    ]
