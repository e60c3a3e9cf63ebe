"""Periodic audit work, merged into Celery beat by config/celery.py."""

from django.conf import settings

BEAT_SCHEDULE = {
    "audit-checkpoint": {
        "task": "audit.create_checkpoint",
        "schedule": float(settings.STEWARD_AUDIT_CHECKPOINT_INTERVAL),
    },
    # Verifications and exports requested while the broker was down.
    "audit-sweep-queued-jobs": {
        "task": "audit.sweep_queued_jobs",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
}
