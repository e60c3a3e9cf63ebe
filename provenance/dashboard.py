from __future__ import annotations

from typing import Any

from django.urls import reverse

from provenance.models import JobStatus
from provenance.selectors import jobs_visible_to
from provenance.services import active_credential


def panels(user: Any) -> list[dict[str, Any]]:
    jobs = jobs_visible_to(user)
    failed = jobs.filter(status=JobStatus.FAILED).count()
    pending = jobs.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).count()
    signed = jobs.filter(status=JobStatus.SUCCEEDED).count()
    credential = active_credential()
    text = f"{pending} waiting, {failed} failed."
    if credential is None:
        text += " No active signing credential."
    return [
        {
            "title": "Signed media",
            "value": signed,
            "text": text,
            "items": [
                {
                    "label": job.input_name,
                    "url": reverse("provenance:job-detail", args=[job.pk]),
                    "note": job.status,
                }
                for job in jobs[:3]
            ],
            "url": reverse("provenance:job-list"),
            "link_text": "Provenance",
            "tone": "bad" if failed or credential is None else ("warn" if pending else "good"),
        }
    ]
