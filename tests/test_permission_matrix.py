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
method needs (``scope=None``: tokens are refused there, it is session-only).

What is derived, not written per entry:
- anonymous: pages redirect to the login (302), the API answers 401, public routes ``ok``;
- a session user: ``ok`` if their role is in ``roles``, else ``denied`` (403 by default);
- a token on a page: ignored, exactly like an anonymous visitor;
- a token on the API: ``ok`` only with the method's scope AND an owner whose role is in
  ``roles``; otherwise 403;
- ``overrides={"session:viewer": 404}`` states any exception explicitly.

Callers (``PRINCIPALS``): anonymous; a session for each role; a token with every scope for
each role; a token with exactly one scope (owned by an admin) for each scope.

``test_every_route_is_in_the_table`` fails when a route is missing from the table, so a new
endpoint cannot ship without its row. Entries whose route does not exist (yet) are skipped,
so rows can be written before the feature is merged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pytest
from django.contrib.admindocs.views import simplify_regex
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from accounts.models import ApiToken, User
from accounts.roles import ADMIN, APPROVER, AUDITOR, MODEL_OWNER, ROLES
from accounts.scopes import SCOPES
from accounts.services import token_create
from tests.factories import UserFactory
from tests.routes import route_exists

ALL_ROLES = frozenset(ROLES)
READERS = ALL_ROLES  # roles.py: every role reads the registry, policies and deployments
READ_EVERYTHING = frozenset({ADMIN, APPROVER, AUDITOR})
OWNERS = frozenset({ADMIN, MODEL_OWNER})
DECIDERS = frozenset({ADMIN, APPROVER})
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass
class Ctx:
    """What a row's builders get: the caller (``actor``: None when anonymous) and helpers."""

    actor: User | None
    _admin: User | None = None

    @property
    def owner(self) -> User:
        """Who owns objects the route's path points at: the caller, or an admin for anonymous."""
        if self.actor is not None:
            return self.actor
        if self._admin is None:
            self._admin = UserFactory(username="matrix-owner", roles=[ADMIN])
        return self._admin

    def token(self, *scopes: str) -> ApiToken:
        token, _ = token_create(
            actor=self.owner,
            owner=self.owner,
            name=f"matrix-{ApiToken.objects.count()}",
            scopes=list(scopes or ["registry:read"]),
        )
        return token


Builder = Callable[[Ctx], dict[str, Any]]


def no_kwargs(ctx: Ctx) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Access:
    ok: int
    roles: frozenset[str] = ALL_ROLES
    scope: str | None = None
    denied: int = 403
    anonymous: int | None = None
    body: Builder | None = None
    overrides: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    kind: Literal["ui", "api", "public"]
    methods: Mapping[str, Access]
    kwargs: Builder = no_kwargs


def _token_body(ctx: Ctx) -> dict[str, Any]:
    return {"name": "matrix-created", "scopes": ["registry:read"]}


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
    # --- registry (issue 3) -- rows below are skipped until the route exists; check them
    # against the merged views and add the API endpoints and detail pages.
    "registry:model-list": Route("ui", {"GET": Access(200, roles=READERS)}),
    "registry:approval-queue": Route("ui", {"GET": Access(200, roles=DECIDERS)}),
    # --- policy (issue 4) ---
    "policy:policy-list": Route("ui", {"GET": Access(200, roles=READERS)}),
    "policy:deployment-list": Route("ui", {"GET": Access(200, roles=READERS)}),
    # --- provenance (issue 6) ---
    "provenance:job-list": Route("ui", {"GET": Access(200, roles=READERS)}),
    # --- audit (issue 5) ---
    "audit:event-list": Route("ui", {"GET": Access(200, roles=READ_EVERYTHING)}),
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
    unnamed, missing = [], []
    for name, path, view in walk_routes():
        if view in EXCLUDED_VIEWS or name in EXCLUDED_NAMES:
            continue
        if name is None:
            unnamed.append(f"{path} ({view})")
        elif name not in TABLE:
            missing.append(f"{name}  {path}  ({view})")
    assert not unnamed, "every route needs a name to be in the permission matrix:\n" + "\n".join(
        unnamed
    )
    assert not missing, (
        "routes missing from the permission matrix (tests/test_permission_matrix.py TABLE):\n"
        + "\n".join(missing)
    )


def test_the_table_lists_every_method_an_api_route_serves(admin_user: User) -> None:
    """A method the table does not list must be refused (405), so none is served unchecked."""
    client = APIClient()
    client.force_login(admin_user)
    for name, route in TABLE.items():
        if route.kind != "api" or not route_exists(name):
            continue
        path = _reverse(name, route.kwargs(Ctx(admin_user)))
        for method in METHODS:
            if method in route.methods:
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
    if access.scope is None or access.scope not in held:
        return 403
    return access.ok if owner_role in access.roles else access.denied


def _reverse(name: str, kwargs: dict[str, Any]) -> str:
    from django.urls import reverse

    return reverse(name, kwargs=kwargs or None)


def _cases() -> Iterator[Any]:
    for name, route in TABLE.items():
        for method in route.methods:
            for principal in PRINCIPALS:
                yield pytest.param(name, method, principal, id=f"{name}-{method}-{principal}")


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


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method", "principal"), list(_cases()))
def test_permission_matrix(name: str, method: str, principal: str) -> None:
    if not route_exists(name):
        pytest.skip(f"route {name!r} does not exist yet (feature not merged)")
    route = TABLE[name]
    access = route.methods[method]
    client, actor = _caller(principal, route)
    ctx = Ctx(actor)
    path = _reverse(name, route.kwargs(ctx))
    body = access.body(ctx) if access.body else None
    if route.kind == "api":
        response = client.generic(method, path, data=_json(body), content_type="application/json")
    elif method == "GET":
        response = client.get(path)
    else:
        response = client.generic(method, path, data=_form(body), content_type=_FORM)
    want = expected_status(route, access, principal)
    assert response.status_code == want, (
        f"{method} {path} as {principal}: {response.status_code}, expected {want}\n"
        f"{response.content[:400]!r}"
    )
    if route.kind == "api" and response.status_code >= 400:
        assert set(response.json()["error"]) == {"code", "message", "fields"}
    if want == 302 and route.kind == "ui" and principal == "anonymous":
        assert response["Location"].startswith("/login/")


_FORM = "application/x-www-form-urlencoded"


def _json(body: dict[str, Any] | None) -> str:
    import json

    return json.dumps(body) if body is not None else ""


def _form(body: dict[str, Any] | None) -> str:
    from urllib.parse import urlencode

    return urlencode(body or {}, doseq=True)
