"""Periodic audit work, merged into Celery beat by config/celery.py."""

from django.conf import settings

BEAT_SCHEDULE = {
    "audit-checkpoint": {
        "task": "audit.create_checkpoint",
        "schedule": float(settings.STEWARD_AUDIT_CHECKPOINT_INTERVAL),
    },
}
