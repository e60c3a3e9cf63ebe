"""Registry rows for policy tests (the registry branch keeps its own factories)."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from registry.models import (
    Access,
    AIModel,
    Approval,
    Decision,
    EUAIActClass,
    EvalResult,
    EvalSourceKind,
    License,
    LicenseCategory,
    ModelVersion,
    RiskAssessment,
    RiskGrade,
    VersionStatus,
)
from tests.factories import UserFactory


class LicenseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = License
        django_get_or_create = ("spdx_id",)

    spdx_id = factory.Sequence(lambda n: f"LicenseRef-test-{n}")
    name = factory.LazyAttribute(lambda o: o.spdx_id)
    category = LicenseCategory.PERMISSIVE
    commercial_use = True


class AIModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AIModel
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"model-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())
    provider = "Meta"
    provider_jurisdiction = "US"
    access = Access.OPEN_WEIGHTS
    license = factory.SubFactory(LicenseFactory)


class ModelVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModelVersion

    model = factory.SubFactory(AIModelFactory)
    label = factory.Sequence(lambda n: f"1.{n}")
    status = VersionStatus.DRAFT
    created_by = factory.SubFactory(UserFactory)


class ApprovalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Approval

    version = factory.SubFactory(ModelVersionFactory)
    requested_by = factory.SubFactory(UserFactory)
    decision = Decision.APPROVED
    decided_by = factory.SubFactory(UserFactory)
    decided_at = factory.LazyFunction(timezone.now)
    conditions = factory.LazyFunction(dict)
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=180))


class EvalResultFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EvalResult

    version = factory.SubFactory(ModelVersionFactory)
    benchmark = "mmlu"
    metric = "acc"
    value = 70.0
    source_kind = EvalSourceKind.VENDOR


class RiskAssessmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RiskAssessment

    version = factory.SubFactory(ModelVersionFactory)
    eu_ai_act_class = EUAIActClass.GPAI
    computed_grade = RiskGrade.LOW
    score = 10


def approved_version(
    *,
    conditions: dict[str, list[str]] | None = None,
    expires_in: timedelta | None = timedelta(days=180),
    grade: str | None = RiskGrade.LOW,
    evals: dict[str, float] | None = None,
    **model_kwargs: object,
) -> ModelVersion:
    """An approved version with its approval in force (what most tests start from)."""
    model = AIModelFactory(**model_kwargs)
    version = ModelVersionFactory(model=model, status=VersionStatus.APPROVED)
    approval = ApprovalFactory(
        version=version,
        conditions=conditions or {},
        expires_at=(timezone.now() + expires_in) if expires_in is not None else None,
    )
    version.current_approval = approval
    version.save(update_fields=["current_approval"])
    if grade is not None:
        RiskAssessmentFactory(version=version, computed_grade=grade)
    for benchmark, value in (evals or {"mmlu": 70.0, "humaneval": 70.0}).items():
        EvalResultFactory(version=version, benchmark=benchmark, value=value)
    return version
