from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from policy.models import Decision, Deployment, DeploymentStatus, Waiver, WaiverStatus
from policy.roles import can_decide_waivers


def panels(user: Any) -> list[dict[str, Any]]:
    blocked = Deployment.objects.filter(status=DeploymentStatus.BLOCKED).select_related(
        "model_version__model"
    )
    recent = list(blocked.order_by("-blocked_at")[:5])
    count = blocked.count()
    out: list[dict[str, Any]] = [
        {
            "title": "Blocked deployments",
            "value": count,
            "text": "Newest first; blocked by an enforced policy." if count else "None blocked.",
            "items": [
                {
                    "label": d.slug,
                    "url": reverse("policy:deployment-detail", args=[d.slug]),
                    "note": f"{d.model_version} · since {d.blocked_at:%Y-%m-%d %H:%M}"
                    if d.blocked_at
                    else str(d.model_version),
                }
                for d in recent
            ],
            "url": reverse("policy:deployment-list") + "?status=blocked",
            "link_text": "All blocked deployments",
            "tone": "bad" if count else "good",
        }
    ]
    since = timezone.now() - timedelta(hours=24)
    stats = Decision.objects.filter(created_at__gte=since).aggregate(
        allowed=Count("pk", filter=Q(verdict="allow")), denied=Count("pk", filter=Q(verdict="deny"))
    )
    out.append(
        {
            "title": "Policy decisions (24 h)",
            "value": f"{stats['allowed']} allowed · {stats['denied']} denied",
            "url": reverse("policy:decision-list"),
            "link_text": "Decision log",
            "tone": "warn" if stats["denied"] else "good",
        }
    )
    if can_decide_waivers(user):
        pending = Waiver.objects.filter(status=WaiverStatus.PENDING).exclude(requested_by=user)
        n = pending.count()
        out.append(
            {
                "title": "Waivers awaiting you",
                "value": n,
                "url": reverse("policy:waiver-list") + "?status=pending",
                "link_text": "Review waivers",
                "tone": "warn" if n else "good",
            }
        )
    return out
