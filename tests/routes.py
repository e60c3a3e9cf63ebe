"""Tests that run once a feature's routes exist, and skip cleanly until then."""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, Resolver404, get_resolver, resolve, reverse


def route_exists(name: str) -> bool:
    """Whether ``name`` (``"registry:model-list"``) is a route, whatever its arguments."""
    try:
        reverse(name)
    except NoReverseMatch:
        namespace, _, short = name.rpartition(":")
        resolver = get_resolver()
        for part in namespace.split(":") if namespace else []:
            if part not in resolver.namespace_dict:
                return False
            resolver = resolver.namespace_dict[part][1]
        return short in resolver.reverse_dict
    return True


def api_path_exists(path: str) -> bool:
    """Whether an API path such as ``/api/v1/policy/check`` has a view (not the JSON 404)."""
    from config.views import api_not_found

    try:
        match = resolve(path)
    except Resolver404:
        return False
    return match.func is not api_not_found


def require_routes(*names: str, feature: str, api_paths: tuple[str, ...] = ()) -> None:
    """Skip the running test unless every route and API path exists: ``feature`` is not merged.

    Name only routes and paths the issues fix as contracts (the navigation names in
    config/context_processors.py, the API paths in the issue texts), so a skip cannot
    outlive the merge of its feature by a guessed name that never appears.
    """
    missing = [name for name in names if not route_exists(name)]
    missing += [path for path in api_paths if not api_path_exists(path)]
    if missing:
        pytest.skip(f"needs {feature} merged (missing {', '.join(missing)})")
