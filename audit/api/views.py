"""Audit REST API: thin adapters over audit.selectors and audit.services."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit import selectors, services
from audit.api.serializers import (
    AuditEventSerializer,
    CheckpointDocumentSerializer,
    ExportCreateSerializer,
    PublicKeySerializer,
    ReportExportSerializer,
    VerifyReportSerializer,
)
from audit.checkpoints import checkpoint_document
from audit.exports.bundle import bundle_path
from audit.filtersets import AuditEventFilterSet
from audit.keys import public_keys, public_pem, signing_key
from audit.models import AuditEvent, Checkpoint, JobStatus, ReportExport
from audit.verification import verify_chain
from config.exceptions import Conflict


class AuditEventListView(generics.ListAPIView[AuditEvent]):
    """The audit trail, newest first, filtered like the explorer page."""

    required_scopes = {"GET": "audit:read"}
    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilterSet
    queryset = AuditEvent.objects.none()

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return AuditEvent.objects.none()
        return selectors.events_visible_to(self.request.user)


class AuditEventDetailView(generics.RetrieveAPIView[AuditEvent]):
    required_scopes = {"GET": "audit:read"}
    serializer_class = AuditEventSerializer
    lookup_field = "seq"
    queryset = AuditEvent.objects.none()

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return AuditEvent.objects.none()
        return selectors.events_visible_to(self.request.user)


class CheckpointListView(generics.ListAPIView[Checkpoint]):
    """Signed checkpoints of the chain head, newest first: keep copies outside Steward."""

    required_scopes = {"GET": "audit:read"}
    serializer_class = CheckpointDocumentSerializer  # type: ignore[assignment]

    queryset = Checkpoint.objects.none()

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Checkpoint.objects.none()
        return selectors.checkpoints_visible_to(self.request.user)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        documents = [checkpoint_document(cp) for cp in page or []]
        return self.get_paginated_response(documents)


class PublicKeyListView(APIView):
    """Public keys that signed checkpoints and exports, current and retired (by key id)."""

    required_scopes = {"GET": "audit:read"}

    @extend_schema(responses=PublicKeySerializer(many=True))
    def get(self, request: Request) -> Response:
        selectors.require_reader(request.user)
        try:
            current = signing_key().key_id
        except Exception:
            current = None
        keys = [
            {
                "key_id": key_id,
                "algorithm": "Ed25519",
                "public_key_pem": public_pem(key),
                "current": key_id == current,
            }
            for key_id, key in sorted(public_keys().items())
        ]
        return Response(PublicKeySerializer(keys, many=True).data)  # type: ignore[arg-type]


class VerifyView(APIView):
    """Verify the whole chain now against every known checkpoint."""

    required_scopes = {"GET": "audit:read"}

    @extend_schema(responses=VerifyReportSerializer)
    def get(self, request: Request) -> Response:
        selectors.require_reader(request.user)
        report = verify_chain()
        return Response(VerifyReportSerializer(report.as_dict()).data)


class ExportListView(generics.ListAPIView[ReportExport]):
    required_scopes = {"GET": "audit:read", "POST": "audit:export"}
    serializer_class = ReportExportSerializer

    queryset = ReportExport.objects.none()

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return ReportExport.objects.none()
        return selectors.exports_visible_to(self.request.user)

    @extend_schema(request=ExportCreateSerializer, responses={202: ReportExportSerializer})
    def post(self, request: Request) -> Response:
        body = ExportCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        export = services.export_request(
            actor=request.user,
            format=body.validated_data["format"],
            filters=body.validated_data.get("filters") or {},
        )
        return Response(ReportExportSerializer(export).data, status=status.HTTP_202_ACCEPTED)


class ExportDetailView(generics.RetrieveAPIView[ReportExport]):
    required_scopes = {"GET": "audit:read"}
    serializer_class = ReportExportSerializer

    queryset = ReportExport.objects.none()

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return ReportExport.objects.none()
        return selectors.exports_visible_to(self.request.user)


class ExportDownloadView(APIView):
    """The signed bundle (a zip). Verify it with ``steward verify-export``."""

    required_scopes = {"GET": "audit:export"}

    @extend_schema(
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY),
            409: OpenApiResponse(description="The export is not finished"),
        }
    )
    def get(self, request: Request, pk: int) -> FileResponse:
        selectors.require_exporter(request.user)
        export = selectors.exports_visible_to(request.user).filter(pk=pk).first()
        if export is None:
            raise Http404("No such export.")
        return export_file_response(export)


def export_file_response(export: ReportExport) -> FileResponse:
    if export.status != JobStatus.SUCCEEDED:
        raise Conflict(f"Export {export.pk} is {export.status}, not ready for download.")
    path = bundle_path(export)
    if not path.is_file():
        raise Http404("The bundle file is gone.")
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=export.bundle_name,
        content_type="application/zip",
    )
