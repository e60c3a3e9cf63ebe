"""Schemathesis against the served /api/schema/: every operation, generated requests.

Checks for each response: no 5xx (``not_a_server_error``), its status is documented
(``status_code_conformance``; config.openapi documents the shared error statuses) and its
body matches the schema documented for that status (``response_schema_conformance``). The operations come
from the schema the app serves, so every endpoint a feature adds is fuzzed without
touching this file.

Two callers: a token holding every scope, owned by an admin (the CI door), and the same
admin's browser session with a valid CSRF pair (session-only endpoints such as token
management are only reachable this way). Bounded and deterministic: ``STEWARD_FUZZ_EXAMPLES``
generated examples per operation (default 20), derandomised, after schemathesis' coverage
phase (its fixed boundary and negative cases, ~70 requests per operation whatever the number
of examples). The coverage phase tests input handling, which does not depend on the caller:
the token runs it on every operation, the session only where a token cannot go.
"""

from __future__ import annotations

import os
import re
from typing import Any

import pytest
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import User
from accounts.roles import ADMIN
from accounts.scopes import SCOPES
from accounts.services import token_create
from config.wsgi import application
from tests.factories import UserFactory
from tests.test_permission_matrix import TABLE, Ctx, walk_routes

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("STEWARD_FUZZ_EXAMPLES", "20"))
# Every status must be documented (config.openapi documents the shared error statuses) and
# every body must match the schema of its status.
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
CSRF = "fuzzcsrf" * 4  # a well-formed 32-character CSRF secret, sent as cookie and header

SCHEMA_URL = "/api/schema/?format=json"
SESSION_ONLY = r"^/api/v1/tokens/"  # token management refuses tokens

schema = schemathesis.openapi.from_wsgi(SCHEMA_URL, application)
session_schema = schemathesis.openapi.from_wsgi(
    SCHEMA_URL,
    application,
    config=SchemathesisConfig.from_dict(
        {
            "phases": {"coverage": {"enabled": False}},
            "operations": [
                {"include-path-regex": SESSION_ONLY, "phases": {"coverage": {"enabled": True}}}
            ],
        }
    ),
)

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def fuzz_admin(transactional_db: None) -> User:
    # Committed data (transactional_db): requests go through the real WSGI handler, which
    # closes and reopens connections between requests as in production.
    return UserFactory(username="fuzz-admin", roles=[ADMIN])


Credentials = tuple[dict[str, str], dict[str, str]]  # (headers, cookies)


@pytest.fixture
def token_caller(fuzz_admin: User) -> Credentials:
    _, secret = token_create(
        actor=fuzz_admin, owner=fuzz_admin, name="fuzz-every-scope", scopes=list(SCOPES)
    )
    return {"Authorization": f"Bearer {secret}"}, {}


@pytest.fixture
def session_caller(fuzz_admin: User) -> Credentials:
    client = Client()
    client.force_login(fuzz_admin)
    session = client.cookies["sessionid"].value
    return {"X-CSRFToken": CSRF}, {"sessionid": session, "csrftoken": CSRF}


def _call(case: Any, caller: Credentials) -> None:
    headers, cookies = caller
    # The generator fills the documented auth schemes with junk (an empty bearer, an empty
    # session cookie); the caller's real credentials replace them.
    case.headers = {
        k: v
        for k, v in (case.headers or {}).items()
        if k.lower() not in {"authorization", "cookie"}
    } | headers
    case.cookies = cookies
    response = case.call()
    case.validate_response(response, checks=CHECKS)
    # The caller's credentials must work on every request, or the fuzzing proves nothing.
    assert response.status_code != 401, response.text
    if response.status_code == 403:
        assert response.json()["error"]["code"] != "csrf_failed", response.text


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_with_a_token_holding_every_scope(case: Any, token_caller: Credentials) -> None:
    _call(case, token_caller)


@session_schema.parametrize()
@FUZZ_SETTINGS
def test_api_with_an_admin_session(case: Any, session_caller: Credentials) -> None:
    _call(case, session_caller)


def _template(path: str) -> str:
    return re.sub(r"\{[^}]+\}|<[^>]+>", "{}", path)


def _existing_object_cases(ctx: Ctx) -> list[Any]:
    """One case per operation with path parameters, aimed at an object that exists.

    Random ids almost never hit a real object, so the success responses of detail, update and
    delete operations would go unchecked. The permission matrix already knows how to build
    each route's path arguments (its ``kwargs`` builders); reuse them.
    """
    routes = {_template(path): name for name, path, _ in walk_routes() if name}
    cases = []
    for result in schema.get_all_operations():
        operation = result.ok()
        params = re.findall(r"\{([^}]+)\}", operation.path)
        if not params or operation.method.upper() not in ("GET", "DELETE"):
            continue
        name = routes.get(_template(operation.path))
        if name is None or name not in TABLE:
            continue  # test_every_route_is_in_the_table reports it
        values = list(TABLE[name].kwargs(ctx).values())
        cases.append(operation.Case(path_parameters=dict(zip(params, values, strict=True))))
    return cases


@pytest.mark.parametrize("caller", ["token_caller", "session_caller"])
def test_api_on_existing_objects(
    caller: str, fuzz_admin: User, request: pytest.FixtureRequest
) -> None:
    credentials = request.getfixturevalue(caller)
    cases = _existing_object_cases(Ctx(fuzz_admin))
    for case in cases:
        _call(case, credentials)
