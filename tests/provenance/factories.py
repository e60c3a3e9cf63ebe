"""Registry rows for provenance tests (the registry app builds its own factories elsewhere)."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from registry.models import (
    AIModel,
    Approval,
    Decision,
    License,
    LicenseCategory,
    ModelVersion,
    VersionStatus,
)
from tests.factories import UserFactory


class LicenseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = License
        django_get_or_create = ("spdx_id",)

    spdx_id = "Apache-2.0"
    name = "Apache License 2.0"
    category = LicenseCategory.PERMISSIVE


class AIModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AIModel
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"imagegen-{n}")
    name = factory.Sequence(lambda n: f"ImageGen {n}")
    provider = "Acme AI"
    provider_jurisdiction = "US"
    modality = "image"
    access = "open_weights"
    license = factory.SubFactory(LicenseFactory)


class ModelVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModelVersion

    model = factory.SubFactory(AIModelFactory)
    label = factory.Sequence(lambda n: f"1.{n}")
    status = VersionStatus.DRAFT
    created_by = factory.SubFactory(UserFactory)


def approved_version(*, expires_at: dt.datetime | None = None, **kwargs: object) -> ModelVersion:
    """A version approved by a second user (separation of duties), optionally expiring."""
    version = ModelVersionFactory(status=VersionStatus.APPROVED, **kwargs)
    approval = Approval.objects.create(
        version=version,
        requested_by=version.created_by,
        decision=Decision.APPROVED,
        decided_by=UserFactory(),
        decided_at=timezone.now(),
        expires_at=expires_at,
    )
    version.current_approval = approval
    version.save(update_fields=["current_approval"])
    return version
