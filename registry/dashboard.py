from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone

from registry import permissions, selectors
from registry.models import Decision, ModelVersion, VersionStatus


def panels(user: Any) -> list[dict[str, Any]]:
    if not permissions.can_read(user):
        return []
    queue = list(selectors.approval_queue(user)[:5])
    waiting = selectors.approval_queue(user).count()
    now = timezone.now()
    approved = ModelVersion.objects.filter(
        status=VersionStatus.APPROVED, current_approval__decision=Decision.APPROVED
    ).select_related("model", "current_approval")
    expiring = [
        v
        for v in approved.filter(
            current_approval__expires_at__gt=now,
            current_approval__expires_at__lte=now + timedelta(days=30),
        ).order_by("current_approval__expires_at")[:5]
    ]
    expired = list(approved.filter(current_approval__expires_at__lte=now)[:5])
    in_force = approved.exclude(current_approval__expires_at__lte=now).count()

    def item(v: ModelVersion, note: str) -> dict[str, Any]:
        return {
            "label": f"{v.model.name} {v.label}",
            "url": reverse("registry:model-detail", args=[v.model.slug]),
            "note": note,
        }

    return [
        {
            "title": "Approvals waiting",
            "value": waiting,
            "items": [item(v, f"since {v.updated_at:%Y-%m-%d}") for v in queue],
            "url": reverse("registry:approval-queue"),
            "link_text": "Open the approval queue",
            "tone": "warn" if waiting else "good",
        },
        {
            "title": "Model versions in force",
            "value": in_force,
            "text": "Approved and not expired.",
            "url": reverse("registry:model-list") + "?status=approved",
            "link_text": "Approved models",
            "tone": "good",
        },
        {
            "title": "Approvals expiring or expired",
            "value": len(expiring) + len(expired),
            "items": [
                *[item(v, "expired") for v in expired],
                *[
                    item(v, f"expires {v.current_approval.expires_at:%Y-%m-%d}")  # type: ignore[union-attr]
                    for v in expiring
                ],
            ],
            "tone": "bad" if expired else ("warn" if expiring else "good"),
        },
    ]
