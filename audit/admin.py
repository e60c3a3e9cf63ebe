"""Read-only admin for the audit tables: nobody edits or deletes the trail (the database
refuses it anyway)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from audit.models import AuditEvent, ChainVerification, Checkpoint, ReportExport


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = [
        "seq",
        "occurred_at",
        "actor_label",
        "action",
        "target_type",
        "target_label",
        "outcome",
    ]
    list_filter = ["outcome", "actor_type"]
    search_fields = ["action", "actor_label", "target_label", "target_id"]
    ordering = ["-seq"]


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ["seq", "created_at", "reason", "key_id", "head_hash"]


@admin.register(ReportExport)
class ReportExportAdmin(ReadOnlyAdmin):
    list_display = ["id", "format", "status", "requested_by", "created_at", "count"]


@admin.register(ChainVerification)
class ChainVerificationAdmin(ReadOnlyAdmin):
    list_display = ["id", "status", "ok", "first_seq", "last_seq", "broken_seq", "finished_at"]
