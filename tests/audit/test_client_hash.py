"""The offline verifier computes the same event hash as the server (no shared code)."""

from __future__ import annotations

import pytest
from steward_client.verify import event_hash as client_event_hash

from audit.chain import canonical_bytes, event_hash

EVENT = {
    "seq": 7,
    "occurred_at": "2026-01-02T03:04:05.123456Z",
    "actor_type": "user",
    "actor_id": "3",
    "actor_label": "aude",
    "action": "model_version.approved",
    "target_type": "registry.modelversion",
    "target_id": "12",
    "target_label": "Llama 3.1 8B — 2024-07-23",
    "context": {"channel": "web", "ip": "10.0.0.1"},
    "outcome": "success",
    "prev_hash": "a" * 64,
}


@pytest.mark.parametrize(
    "changes",
    [
        {"status": {"before": "submitted", "after": "approved"}},
        {"score": 0.1, "big": 1e21, "neg": -0.0},
        {"ünï": "✓ \u2028 \x01", "\ue000": 1, "😀": [True, None]},
        {"n": 2**60},
    ],
)
def test_server_and_client_hash_alike(changes):
    import rfc8785

    event = {**EVENT, "changes": changes}
    try:
        reference = rfc8785.dumps({k: event[k] for k in (*EVENT, "changes")})
    except rfc8785.CanonicalizationError:
        with pytest.raises(rfc8785.CanonicalizationError):
            canonical_bytes(event)
        return
    assert canonical_bytes(event) == reference
    assert event_hash(event) == client_event_hash(event)
