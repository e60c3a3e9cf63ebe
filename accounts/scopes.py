"""The scopes an API token can carry. A token may do only what its scopes and its owner's
roles both allow."""

from __future__ import annotations

SCOPES: dict[str, str] = {
    "registry:read": "Read models, versions, licences, evals and approvals",
    "registry:write": "Register models and versions, push evals, submit and decide approvals",
    "policy:check": "Ask for policy decisions (CI checks)",
    "policy:write": "Edit policies, deployments and waivers",
    "provenance:sign": "Sign and verify generated media",
    "audit:read": "Read the audit trail, checkpoints and verification",
    "audit:export": "Export signed audit reports",
}

SCOPE_CHOICES = [(scope, f"{scope} — {text}") for scope, text in SCOPES.items()]


def validate_scopes(scopes: list[str]) -> list[str]:
    unknown = sorted(set(scopes) - SCOPES.keys())
    if unknown:
        from config.exceptions import DomainError

        raise DomainError(
            f"Unknown scope(s): {', '.join(unknown)}. Known scopes: {', '.join(SCOPES)}.",
            fields={"scopes": [f"Unknown scope: {s}" for s in unknown]},
        )
    if not scopes:
        from config.exceptions import DomainError

        raise DomainError("A token needs at least one scope.", fields={"scopes": ["Required."]})
    return sorted(set(scopes))
