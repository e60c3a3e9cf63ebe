from __future__ import annotations

from typing import Any

from rest_framework import serializers

from audit.chain import HASHED_FIELDS
from audit.models import AuditEvent, ExportFormat, ReportExport


class AuditEventSerializer(serializers.ModelSerializer[AuditEvent]):
    class Meta:
        model = AuditEvent
        # What the chain hashes, and the hash: an event as the offline verifier sees it.
        fields = [*HASHED_FIELDS, "hash"]
        read_only_fields = fields


class CheckpointDocumentSerializer(serializers.Serializer[dict[str, Any]]):
    type = serializers.CharField()
    version = serializers.IntegerField()
    seq = serializers.IntegerField()
    head_hash = serializers.CharField()
    created_at = serializers.CharField()
    prev_checkpoint_hash = serializers.CharField()
    key_id = serializers.CharField()
    checkpoint_hash = serializers.CharField()
    signature = serializers.CharField()


class PublicKeySerializer(serializers.Serializer[dict[str, Any]]):
    key_id = serializers.CharField()
    algorithm = serializers.CharField()
    public_key_pem = serializers.CharField()
    current = serializers.BooleanField()


class VerifyReportSerializer(serializers.Serializer[dict[str, Any]]):
    ok = serializers.BooleanField()
    first_seq = serializers.IntegerField(allow_null=True)
    last_seq = serializers.IntegerField(allow_null=True)
    count = serializers.IntegerField()
    broken_seq = serializers.IntegerField(allow_null=True)
    problem = serializers.CharField(
        allow_blank=True,
        help_text="'', hash_mismatch, link_mismatch, gap, checkpoint_mismatch or bad_signature",
    )
    reason = serializers.CharField(allow_blank=True)
    checkpoints_checked = serializers.IntegerField()
    last_checkpoint = CheckpointDocumentSerializer(allow_null=True)


class ExportCreateSerializer(serializers.Serializer[dict[str, Any]]):
    format = serializers.ChoiceField(choices=ExportFormat.choices)
    filters = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        default=dict,
        help_text="Same names as the events list filters, e.g. "
        '{"action": "model_version.", "occurred_after": "2026-01-01T00:00:00Z"}',
    )

    def validate_filters(self, value: dict[str, str]) -> dict[str, str]:
        # A misspelt filter must not quietly export the whole trail.
        from audit.filtersets import AuditEventFilterSet

        known = AuditEventFilterSet.base_filters
        unknown = sorted(set(value) - set(known))
        if unknown:
            raise serializers.ValidationError(
                f"Unknown filter(s): {', '.join(unknown)}. Known: {', '.join(sorted(known))}."
            )
        return value


class ReportExportSerializer(serializers.ModelSerializer[ReportExport]):
    requested_by: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="username", read_only=True
    )
    checkpoint_seq = serializers.IntegerField(
        source="checkpoint.seq", allow_null=True, default=None
    )
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ReportExport
        fields = [
            "id",
            "status",
            "format",
            "filters",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "progress",
            "count",
            "first_seq",
            "last_seq",
            "checkpoint_seq",
            "bundle_name",
            "bundle_sha256",
            "bundle_size",
            "error",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, obj: ReportExport) -> str | None:
        if obj.status != "succeeded":
            return None
        return f"/api/v1/audit/exports/{obj.pk}/download/"
