"""Periodic tasks of the provenance app (merged into the beat schedule by config/celery.py)."""

BEAT_SCHEDULE = {
    # Jobs whose message never reached the broker, or whose worker died, run again.
    "provenance-sweep-signing-jobs": {
        "task": "provenance.sweep_signing_jobs",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
}
