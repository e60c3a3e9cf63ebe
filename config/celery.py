"""The Celery app. Tasks live in each app's ``tasks.py``; settings are the CELERY_* ones.

Periodic tasks: each app may declare ``BEAT_SCHEDULE`` in its ``schedule.py``; they are
merged here so that apps do not edit one shared settings block.
"""

from __future__ import annotations

import os
from importlib import import_module
from typing import Any

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

SCHEDULE_APPS = ["accounts", "registry", "policy", "provenance", "audit"]

app = Celery("steward")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def collect_beat_schedule() -> dict[str, Any]:
    schedule: dict[str, Any] = {}
    for name in SCHEDULE_APPS:
        try:
            module = import_module(f"{name}.schedule")
        except ModuleNotFoundError as exc:
            if exc.name != f"{name}.schedule":
                raise
            continue
        schedule.update(module.BEAT_SCHEDULE)
    return schedule


@app.on_after_configure.connect
def _install_beat_schedule(sender: Celery, **kwargs: Any) -> None:
    sender.conf.beat_schedule = {**collect_beat_schedule(), **(sender.conf.beat_schedule or {})}
