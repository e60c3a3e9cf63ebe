from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from accounts.models import User
from policy.models import Deployment
from registry.models import ModelVersion
from tests.policy.factories import approved_version


@pytest.fixture
def catalog(db: None) -> None:
    from policy.seed import _seed_catalogs

    _seed_catalogs()


@pytest.fixture
def packs(catalog: None, make_user: Callable[..., User]) -> None:
    """Regions, use cases and the four built-in packs, published."""
    from policy.evaluation import cache
    from policy.seed import _seed_packs

    cache.clear()
    _seed_packs(make_user("pack-author", ["approver"]))


@pytest.fixture
def version(db: None) -> ModelVersion:
    return approved_version(slug="llama-test")


@pytest.fixture
def make_deployment(owner: User) -> Callable[..., Deployment]:
    from policy.services import deployment_create

    def make(version: ModelVersion, **kwargs: Any) -> Deployment:
        fields: dict[str, Any] = {
            "slug": f"dep-{Deployment.objects.count() + 1}",
            "environment": "prod",
            "region": "eu-west-1",
            "hosting": "self_hosted",
            "use_case": "document-translation",
            "data_classes": ["internal"],
        }
        fields.update(kwargs)
        return deployment_create(actor=owner, model_version=version, **fields)

    return make
