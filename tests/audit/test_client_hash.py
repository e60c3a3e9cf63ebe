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
    ],
)
def test_server_and_client_hash_alike(changes):
    import rfc8785

    event = {**EVENT, "changes": changes}
    reference = rfc8785.dumps({k: event[k] for k in (*EVENT, "changes")})
    assert canonical_bytes(event) == reference
    assert event_hash(event) == client_event_hash(event)


@pytest.mark.parametrize("number", [7.5e23, 2.0**60, -1e300])
def test_a_big_float_read_back_as_an_integer_hashes_as_the_float_it_was(number):
    """PostgreSQL's jsonb returns 7.5e+23 as 750000000000000000000000: same double, same hash."""
    recorded = {**EVENT, "changes": {"training_compute_flops": number}}
    read_back = {**EVENT, "changes": {"training_compute_flops": int(number)}}
    assert type(read_back["changes"]["training_compute_flops"]) is int
    assert canonical_bytes(read_back) == canonical_bytes(recorded)
    assert event_hash(read_back) == event_hash(recorded) == client_event_hash(read_back)
