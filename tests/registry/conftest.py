from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from accounts.models import Team, User
from registry import services
from registry.models import AIModel, ModelVersion
from tests.factories import TeamFactory
from tests.registry.factories import LicenseFactory

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fixture_text() -> Callable[[str], str]:
    return lambda name: (FIXTURES / name).read_text(encoding="utf-8")


@pytest.fixture
def team(db: None, owner: User) -> Team:
    team = TeamFactory(slug="ml-platform")
    team.members.add(owner)
    return team


@pytest.fixture
def other_owner(make_user: Callable[..., User]) -> User:
    user = make_user("other-owner", ["model_owner"])
    TeamFactory(slug="elsewhere").members.add(user)
    return user


@pytest.fixture
def apache(db: None) -> Any:
    return LicenseFactory()


@pytest.fixture
def llama_license(db: None) -> Any:
    return LicenseFactory(
        spdx_id="LicenseRef-Llama-3.2-Community",
        name="Llama 3.2 Community License Agreement",
        category="open_weights_restricted",
        user_threshold_mau=700_000_000,
        territorial_restrictions=["EU"],
        acceptable_use_policy_url="https://www.llama.com/llama3_2/use-policy",
    )


@pytest.fixture
def make_model(owner: User, team: Team, apache: Any) -> Callable[..., AIModel]:
    counter = iter(range(10_000))

    def make(**kwargs: Any) -> AIModel:
        n = next(counter)
        data: dict[str, Any] = {
            "slug": f"test-model-{n}",
            "name": f"Test model {n}",
            "provider": "Mistral AI",
            "provider_jurisdiction": "FR",
            "access": "open_weights",
            "license": apache,
            "owner_team": team,
            "openness_components": {"weights": True, "architecture": True},
        }
        data.update(kwargs)
        return services.model_create(actor=kwargs.pop("actor", owner), **data)

    return make


@pytest.fixture
def policy_catalog(db: None) -> None:
    """The policy app's region and use-case catalogs, which approval conditions name."""
    from policy.seed import _seed_catalogs

    _seed_catalogs()


@pytest.fixture
def draft(make_model: Callable[..., AIModel], owner: User) -> ModelVersion:
    model = make_model()
    return services.version_create(actor=owner, model=model, label="1.0")


@pytest.fixture
def submitted(draft: ModelVersion, owner: User) -> ModelVersion:
    services.version_submit(actor=owner, version=draft, justification="for the chatbot")
    draft.refresh_from_db()
    return draft


@pytest.fixture
def approved(submitted: ModelVersion, approver: User) -> ModelVersion:
    services.version_approve(
        actor=approver, version=submitted, conditions={"data_classes": ["public"]}
    )
    submitted.refresh_from_db()
    return submitted
