"""Periodic tasks: expiry of approvals and waivers takes effect without anyone acting."""

BEAT_SCHEDULE = {
    "policy-sweep-expired": {"task": "policy.sweep_expired", "schedule": 60.0},
}
