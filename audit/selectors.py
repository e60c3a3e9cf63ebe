"""Reads of the audit trail. Who may read it is decided here, for the UI and the API alike.

Only auditors and admins (``audit.view_auditevent``) read the trail; exporting needs
``audit.export_auditevent``. Others get NotAllowed (403).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from audit.filtersets import AuditEventFilterSet, bound_filterset
from audit.models import AuditEvent, ChainVerification, Checkpoint, JobStatus, ReportExport
from config.exceptions import NotAllowed

VIEW_PERMISSION = "audit.view_auditevent"
EXPORT_PERMISSION = "audit.export_auditevent"


def can_read_audit(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm(VIEW_PERMISSION))


def can_export_audit(user: Any) -> bool:
    return can_read_audit(user) and bool(user.has_perm(EXPORT_PERMISSION))


def require_reader(user: Any) -> None:
    if not can_read_audit(user):
        raise NotAllowed("Only auditors and admins can read the audit trail.")


def require_exporter(user: Any) -> None:
    if not can_export_audit(user):
        raise NotAllowed("Only auditors and admins can export the audit trail.")


def events_visible_to(user: Any) -> QuerySet[AuditEvent]:
    require_reader(user)
    # ``body`` repeats the columns (for verification): pages and the API never need it.
    return AuditEvent.objects.defer("body").order_by("-seq")


def filtered_events(user: Any, data: Any) -> tuple[AuditEventFilterSet, QuerySet[AuditEvent]]:
    """The FilterSet bound to ``data`` and its result; invalid filters raise DomainError."""
    filterset = bound_filterset(data, events_visible_to(user))
    return filterset, filterset.qs


def event_detail(user: Any, seq: int) -> AuditEvent | None:
    return events_visible_to(user).filter(seq=seq).first()


def checkpoints_visible_to(user: Any) -> QuerySet[Checkpoint]:
    require_reader(user)
    return Checkpoint.objects.order_by("-seq")


def exports_visible_to(user: Any) -> QuerySet[ReportExport]:
    require_reader(user)
    return ReportExport.objects.select_related("requested_by", "checkpoint")


def chain_status() -> dict[str, Any]:
    """What the status badge shows: the last finished verification and the last checkpoint."""
    last_check = (
        ChainVerification.objects.filter(status=JobStatus.SUCCEEDED)
        .order_by("-finished_at")
        .first()
    )
    pending = ChainVerification.objects.filter(
        status__in=[JobStatus.QUEUED, JobStatus.RUNNING]
    ).exists()
    return {
        "verification": last_check,
        "pending": pending,
        "checkpoint": Checkpoint.objects.order_by("-seq").first(),
        "head_seq": AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first(),
    }


def diff_rows(changes: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows for the before/after table: ``{"field": {"before": a, "after": b}}`` entries diff,
    other entries show as plain values."""
    rows = []
    for key, value in sorted(changes.items()):
        if isinstance(value, dict) and set(value) <= {"before", "after"} and value:
            rows.append(
                {
                    "field": key,
                    "before": value.get("before"),
                    "after": value.get("after"),
                    "changed": value.get("before") != value.get("after"),
                    "is_diff": True,
                }
            )
        else:
            rows.append({"field": key, "value": value, "is_diff": False})
    return rows
