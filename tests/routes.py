"""Tests that run once a feature's routes exist, and skip cleanly until then."""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, get_resolver, reverse


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


def require_routes(*names: str, feature: str) -> None:
    """Skip the running test unless every route exists: ``feature`` is not merged yet."""
    missing = [name for name in names if not route_exists(name)]
    if missing:
        pytest.skip(f"needs {feature} merged (no route {', '.join(missing)})")
