"""How deep JSON from clients may nest.

No Steward input nests deeper than a few levels; a document nested thousands deep made
json.loads, or code walking its result recursively (hashing, validation), overflow the
stack: a 500."""

from __future__ import annotations

from typing import Any

MAX_JSON_DEPTH = 64


def nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` holds lists or objects more than ``limit`` levels deep (no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, dict | list):
            continue
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children)
    return False
