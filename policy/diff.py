"""Differences between two policy versions: parameters and rules, field by field."""

from __future__ import annotations

import difflib
import json
from typing import Any

from policy.models import PolicyVersion

RULE_FIELDS = ("title", "expression", "message", "severity")


def _rules(version: PolicyVersion) -> dict[str, dict[str, Any]]:
    return {r.rule_id: {f: getattr(r, f) for f in RULE_FIELDS} for r in version.rules.all()}


def _text(version: PolicyVersion) -> list[str]:
    lines = [
        "params: " + line
        for line in json.dumps(version.params, indent=2, sort_keys=True).splitlines()
    ]
    for rule_id, rule in sorted(_rules(version).items()):
        lines.append(f"rule {rule_id} [{rule['severity']}] {rule['title']}")
        lines.extend(f"  expr: {line}" for line in rule["expression"].splitlines())
        lines.extend(f"  msg:  {line}" for line in rule["message"].splitlines())
    return lines


def version_diff(old: PolicyVersion, new: PolicyVersion) -> dict[str, Any]:
    before, after = _rules(old), _rules(new)
    changed = []
    for rule_id in sorted(before.keys() & after.keys()):
        fields = {
            f: [before[rule_id][f], after[rule_id][f]]
            for f in RULE_FIELDS
            if before[rule_id][f] != after[rule_id][f]
        }
        if fields:
            changed.append({"rule_id": rule_id, "fields": fields})
    keys = sorted(set(old.params) | set(new.params))
    params = [
        {"key": k, "before": old.params.get(k), "after": new.params.get(k)}
        for k in keys
        if old.params.get(k) != new.params.get(k)
    ]
    unified = list(
        difflib.unified_diff(
            _text(old), _text(new), f"v{old.number}", f"v{new.number}", lineterm="", n=2
        )
    )
    return {
        "from": old.number,
        "to": new.number,
        "params": params,
        "added": sorted(after.keys() - before.keys()),
        "removed": sorted(before.keys() - after.keys()),
        "changed": changed,
        "unified": unified,
    }
