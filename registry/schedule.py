from celery.schedules import crontab

BEAT_SCHEDULE = {
    "registry.expire_approvals": {
        "task": "registry.expire_approvals",
        # Expiry already takes effect on its own (ModelVersion.is_usable); this only makes it
        # visible in the audit trail, so a few minutes of delay are fine.
        "schedule": crontab(minute="*/5"),
    }
}
