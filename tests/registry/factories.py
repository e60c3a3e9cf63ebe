from __future__ import annotations

import factory

from registry.models import AIModel, EvalResult, EvalSourceKind, License, ModelVersion
from tests.factories import TeamFactory, UserFactory


class LicenseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = License
        django_get_or_create = ("spdx_id",)

    spdx_id = "Apache-2.0"
    name = "Apache License 2.0"
    category = "permissive"
    attribution_required = True
    source_url = "https://www.apache.org/licenses/LICENSE-2.0"


class AIModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AIModel

    slug = factory.Sequence(lambda n: f"model-{n}")
    name = factory.Sequence(lambda n: f"Model {n}")
    provider = "Mistral AI"
    provider_jurisdiction = "FR"
    access = "open_weights"
    license = factory.SubFactory(LicenseFactory)
    owner_team = factory.SubFactory(TeamFactory)
    openness_tier = "open_weights_only"
    openness_components = factory.LazyFunction(lambda: {"weights": True})


class ModelVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModelVersion

    model = factory.SubFactory(AIModelFactory)
    label = factory.Sequence(lambda n: f"v{n}")
    created_by = factory.SubFactory(UserFactory)


class EvalResultFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EvalResult

    version = factory.SubFactory(ModelVersionFactory)
    benchmark = "mmlu"
    metric = "acc"
    value = 60.0
    source_kind = EvalSourceKind.VENDOR
