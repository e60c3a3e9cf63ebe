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

Rows live in ``tests/matrix/rows_<app>.py``; builders (``tests/matrix/builders.py``)
create, per case, the objects a path names: what the caller owns belongs to the caller
(their team's model, their deployment, their signing job); what the caller decides was
requested by someone else (``rows_other_teams.py`` turns that around: owners meet another
team's objects). Write methods carry bodies that succeed for the allowed callers (and a
page's allowed write must not flash an error), and state machines get a fresh object per
case, so each row proves the allowed path as well as the refusals.

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
- the forms of policies and deployments (``GET`` of the rule and parameter editors, the
  deployment form, new or edit) answer 403 to whoever could not submit them, as the
  submit does, and their links are hidden; the card import form still renders for every
  reader (its write is refused with 403);
- scopes do not imply each other except in the policy API, where ``policy:write`` also
  reads (policy/api/views.py); ``registry:write`` does not read, ``audit:export`` only
  downloads and requests exports.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.admindocs.views import simplify_regex
from django.contrib.messages import ERROR, get_messages
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from accounts.models import User
from accounts.roles import ADMIN, ROLES
from accounts.scopes import SCOPES
from accounts.services import token_create
from tests.factories import UserFactory
from tests.matrix.access import METHODS, Access, Route, url_name
from tests.matrix.builders import Ctx
from tests.matrix.rows_audit import AUDIT
from tests.matrix.rows_other_teams import OTHER_TEAMS
from tests.matrix.rows_policy import POLICY
from tests.matrix.rows_provenance import PROVENANCE
from tests.matrix.rows_registry import REGISTRY
from tests.routes import route_exists

SIGNED_IN = {f"session:{role}": 302 for role in ROLES}


def _token_body(ctx: Ctx) -> dict[str, Any]:
    return {"name": "matrix-created", "scopes": ["registry:read"]}


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
