from __future__ import annotations

from typing import Any

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from provenance import services
from provenance.api.serializers import (
    SignAcceptedSerializer,
    SigningJobDetailSerializer,
    SigningJobSerializer,
    SignRequestSerializer,
    VerifyRequestSerializer,
    VerifyResultSerializer,
)
from provenance.downloads import download_response
from provenance.filtersets import SigningJobFilterSet
from provenance.models import SigningJob
from provenance.selectors import job_for, jobs_visible_to

SCOPE = "provenance:sign"


class SignView(APIView):
    """Submit files for signing. Answers 202 at once; workers sign them."""

    required_scopes = {"POST": SCOPE}
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": SignRequestSerializer},
        responses={
            202: SignAcceptedSerializer,
            409: OpenApiResponse(description="The model version is not approved"),
            413: OpenApiResponse(description="Upload too large"),
            415: OpenApiResponse(description="Unsupported file type"),
            422: OpenApiResponse(description="Bad file or unknown model version"),
        },
    )
    def post(self, request: Request) -> Response:
        body = SignRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        jobs = services.signing_jobs_submit(
            actor=request.user,
            files=data["files"],
            model_version_id=data["model_version"],
            deployment_ref=data.get("deployment", ""),
            options=services.SignOptions(
                training_mining=data["training_mining"],
                watermark=data["watermark"],
                embed=data["embed"],
            ),
        )
        jobs_data: list[dict[str, Any]] = list(
            SigningJobSerializer(jobs, many=True, context={"request": request}).data
        )
        payload = {"batch": str(jobs[0].batch) if jobs[0].batch else None, "jobs": jobs_data}
        response = Response(payload, status=status.HTTP_202_ACCEPTED)
        response["Location"] = jobs_data[0]["status_url"]
        return response


class JobListView(generics.ListAPIView[SigningJob]):
    required_scopes = {"GET": SCOPE}
    serializer_class = SigningJobSerializer
    filterset_class = SigningJobFilterSet

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return SigningJob.objects.none()
        return jobs_visible_to(self.request.user)


class JobDetailView(APIView):
    required_scopes = {"GET": SCOPE}

    @extend_schema(responses=SigningJobDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        job = job_for(request.user, pk)
        return Response(SigningJobDetailSerializer(job, context={"request": request}).data)


class JobDownloadView(APIView):
    required_scopes = {"GET": SCOPE}

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "part",
                str,
                enum=["file", "manifest"],
                description="`file` (default): the signed file; `manifest`: the .c2pa store.",
            )
        ],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, pk: int) -> FileResponse:
        job = job_for(request.user, pk)
        return download_response(job, request.query_params.get("part", "file"))


class VerifyView(APIView):
    """What Steward can say about any file: manifest and validation state, or — when the
    manifest was stripped — the watermark and the job and manifest it leads to."""

    required_scopes = {"POST": SCOPE}
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": VerifyRequestSerializer},
        responses={200: VerifyResultSerializer, 413: OpenApiResponse(description="Too large")},
    )
    def post(self, request: Request) -> Response:
        body = VerifyRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = services.verify_file(
            actor=request.user,
            upload=body.validated_data["file"],
            sidecar=body.validated_data.get("manifest"),
        )
        return Response(result)
