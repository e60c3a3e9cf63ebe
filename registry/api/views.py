"""REST endpoints of the registry: thin adapters over registry.selectors and services."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Team
from config.api import PaginatedListMixin, paginated_response
from config.exceptions import DomainError, NotFound, Unprocessable
from config.ids import parse_id
from config.parsers import JSONParser
from config.uploads import read_upload
from registry import selectors, services
from registry.aibom import aibom_content_disposition, build_aibom
from registry.api import serializers as s
from registry.filtersets import ModelFilterSet
from registry.models import AIModel, License, ModelVersion
from registry.permissions import DecisionRights, can_read

ERRORS = {
    400: OpenApiResponse(description="Invalid input (error shape)"),
    403: OpenApiResponse(description="Not allowed for your role or token scope"),
    404: OpenApiResponse(description="No such object"),
    409: OpenApiResponse(description="Not allowed from the current state / separation of duties"),
    422: OpenApiResponse(description="Names something unknown (licence, team, model)"),
}


class RegistryAPIView(APIView):
    scope_prefix = "registry"


def _team(slug: str | None) -> Team | None:
    if not slug:
        return None
    team = Team.objects.filter(slug=slug).first()
    if team is None:
        raise Unprocessable(f"No team '{slug}'.", fields={"owner_team": ["Unknown team."]})
    return team


def _base_model(slug: str | None) -> AIModel | None:
    if not slug:
        return None
    model = AIModel.objects.filter(slug=slug).first()
    if model is None:
        raise Unprocessable(
            f"Base model '{slug}' is not in the registry.", fields={"base_model": ["Unknown."]}
        )
    return model


def _version(request: Request, pk: int) -> ModelVersion:
    return selectors.version_detail(request.user, pk)


def _version_response(request: Request, pk: int, code: int = status.HTTP_200_OK) -> Response:
    return Response(s.VersionDetailSerializer(_version(request, pk)).data, status=code)


class ModelListView(generics.ListAPIView[AIModel]):
    """Models, filtered like the model list page (one FilterSet)."""

    scope_prefix = "registry"
    serializer_class = s.ModelSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ModelFilterSet

    def get_queryset(self) -> QuerySet[AIModel]:
        return selectors.models_visible_to(self.request.user)

    @extend_schema(
        request=s.ModelWriteSerializer, responses={201: s.ModelDetailSerializer, **ERRORS}
    )
    def post(self, request: Request) -> Response:
        body = s.ModelWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        model = services.model_create(
            actor=request.user,  # type: ignore[arg-type]
            slug=data.pop("slug"),
            license=data.pop("license"),
            owner_team=_team(data.pop("owner_team", None)),
            base_model=_base_model(data.pop("base_model", None)),
            **data,
        )
        detail = selectors.model_detail(request.user, model.slug)
        return Response(s.ModelDetailSerializer(detail).data, status=status.HTTP_201_CREATED)


class ModelDetailView(RegistryAPIView):
    @extend_schema(responses={200: s.ModelDetailSerializer, 404: ERRORS[404]})
    def get(self, request: Request, slug: str) -> Response:
        return Response(s.ModelDetailSerializer(selectors.model_detail(request.user, slug)).data)

    @extend_schema(
        request=s.ModelUpdateSerializer, responses={200: s.ModelDetailSerializer, **ERRORS}
    )
    def patch(self, request: Request, slug: str) -> Response:
        model = selectors.model_detail(request.user, slug)
        body = s.ModelUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        services.model_update(
            actor=request.user,  # type: ignore[arg-type]
            model=model,
            license=data.pop("license", None),
            **data,
        )
        return Response(s.ModelDetailSerializer(selectors.model_detail(request.user, slug)).data)


class ModelVersionsView(PaginatedListMixin, RegistryAPIView):
    @extend_schema(responses={200: s.VersionSerializer(many=True), 404: ERRORS[404]})
    def get(self, request: Request, slug: str) -> Response:
        model = selectors.model_detail(request.user, slug)
        versions = selectors.versions_visible_to(request.user).filter(model=model)
        return paginated_response(self, request, versions, s.VersionSerializer)

    @extend_schema(
        request=s.VersionWriteSerializer, responses={201: s.VersionDetailSerializer, **ERRORS}
    )
    def post(self, request: Request, slug: str) -> Response:
        model = selectors.model_detail(request.user, slug)
        body = s.VersionWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        version = services.version_create(
            actor=request.user,  # type: ignore[arg-type]
            model=model,
            **body.validated_data,
        )
        return _version_response(request, version.pk, status.HTTP_201_CREATED)


class VersionDetailView(RegistryAPIView):
    @extend_schema(responses={200: s.VersionDetailSerializer, 404: ERRORS[404]})
    def get(self, request: Request, pk: int) -> Response:
        return _version_response(request, pk)


class VersionFactsView(RegistryAPIView):
    """The plain-JSON facts about a version that policies evaluate."""

    @extend_schema(responses={200: OpenApiTypes.OBJECT, 404: ERRORS[404]})
    def get(self, request: Request, pk: int) -> Response:
        return Response(selectors.version_facts(_version(request, pk)))


class _TransitionView(RegistryAPIView):
    input_serializer: type[Any] = s.SubmitSerializer

    def run(self, request: Request, version: ModelVersion, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def post(self, request: Request, pk: int) -> Response:
        version = _version(request, pk)
        body = self.input_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        self.run(request, version, dict(body.validated_data))
        return _version_response(request, pk)


def _transition_schema(serializer: type[Any], summary: str) -> Any:
    return extend_schema(
        request=serializer, responses={200: s.VersionDetailSerializer, **ERRORS}, summary=summary
    )


class SubmitView(_TransitionView):
    input_serializer = s.SubmitSerializer

    @_transition_schema(s.SubmitSerializer, "Submit a draft (or changes-requested) version")
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def run(self, request: Request, version: ModelVersion, data: dict[str, Any]) -> None:
        services.version_submit(actor=request.user, version=version, **data)  # type: ignore[arg-type]


class ApproveView(_TransitionView):
    input_serializer = s.ApproveSerializer

    @_transition_schema(s.ApproveSerializer, "Approve a submitted version, with conditions")
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def run(self, request: Request, version: ModelVersion, data: dict[str, Any]) -> None:
        services.version_approve(
            actor=request.user,  # type: ignore[arg-type]
            version=version,
            conditions=dict(data.get("conditions") or {}),
            expires_at=data.get("expires_at"),
            comment=data.get("comment", ""),
        )


class RejectView(_TransitionView):
    input_serializer = s.CommentSerializer

    @_transition_schema(s.CommentSerializer, "Reject a submitted version")
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def run(self, request: Request, version: ModelVersion, data: dict[str, Any]) -> None:
        services.version_reject(actor=request.user, version=version, **data)  # type: ignore[arg-type]


class RequestChangesView(_TransitionView):
    input_serializer = s.CommentSerializer

    @_transition_schema(s.CommentSerializer, "Send a submitted version back for changes")
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def run(self, request: Request, version: ModelVersion, data: dict[str, Any]) -> None:
        services.version_request_changes(actor=request.user, version=version, **data)  # type: ignore[arg-type]


class RevokeView(_TransitionView):
    input_serializer = s.ReasonSerializer

    @_transition_schema(s.ReasonSerializer, "Revoke an approval")
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def run(self, request: Request, version: ModelVersion, data: dict[str, Any]) -> None:
        services.version_revoke(actor=request.user, version=version, **data)  # type: ignore[arg-type]


class DeprecateView(_TransitionView):
    input_serializer = s.DeprecateSerializer

    @_transition_schema(s.DeprecateSerializer, "Deprecate an approved version")
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def run(self, request: Request, version: ModelVersion, data: dict[str, Any]) -> None:
        services.version_deprecate(actor=request.user, version=version, **data)  # type: ignore[arg-type]


class RiskOverrideView(_TransitionView):
    input_serializer = s.RiskOverrideSerializer

    @_transition_schema(s.RiskOverrideSerializer, "Override (or clear) the risk grade")
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)

    def run(self, request: Request, version: ModelVersion, data: dict[str, Any]) -> None:
        services.risk_override(actor=request.user, version=version, **data)  # type: ignore[arg-type]


class EvalListView(PaginatedListMixin, RegistryAPIView):
    @extend_schema(responses={200: s.EvalResultSerializer(many=True), 404: ERRORS[404]})
    def get(self, request: Request, pk: int) -> Response:
        evals = _version(request, pk).evals.order_by("benchmark", "metric", "pk")
        return paginated_response(self, request, evals, s.EvalResultSerializer)

    @extend_schema(
        request=s.EvalWriteSerializer,
        responses={201: s.EvalResultSerializer, **ERRORS},
        description="Add one result. A body with a top-level 'results' object is taken as an "
        "lm-evaluation-harness results JSON and imported as by .../evals/import-lm-eval/.",
    )
    def post(self, request: Request, pk: int) -> Response:
        if isinstance(request.data, dict) and "results" in request.data:
            return import_lm_eval(request, pk)
        version = _version(request, pk)
        body = s.EvalWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        result = services.eval_add(
            actor=request.user,  # type: ignore[arg-type]
            version=version,
            item=services.EvalInput(**body.validated_data),
        )
        return Response(s.EvalResultSerializer(result).data, status=status.HTTP_201_CREATED)


class LmEvalImportView(RegistryAPIView):
    """Import an lm-evaluation-harness results JSON: as the request body (JSON) or as a
    multipart ``file``. All metrics are stored, or none."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        request={
            "application/json": OpenApiTypes.OBJECT,
            "multipart/form-data": s.LmEvalUploadSerializer,
        },
        responses={201: s.EvalResultSerializer(many=True), **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        return import_lm_eval(request, pk)


def import_lm_eval(request: Request, pk: int) -> Response:
    """The lm-eval import shared by .../evals/ and .../evals/import-lm-eval/."""
    version = _version(request, pk)
    upload = request.FILES.get("file")
    if upload is not None:
        filename = upload.name or "lm-eval-results.json"
        raw: Any = read_upload(
            upload, limit=services.MAX_LM_EVAL_BYTES, what=f"The lm-eval results file {filename}"
        )
    elif isinstance(request.data, dict) and "results" in request.data:
        raw, filename = dict(request.data), "lm-eval-results.json"
    else:
        raise DomainError(
            "Send the lm-eval results JSON as the body or as a multipart 'file'.",
            fields={"file": ["Required."]},
        )
    results = services.evals_import_lm_eval(
        actor=request.user,  # type: ignore[arg-type]
        version=version,
        raw=raw,
        filename=filename,
    )
    return Response(s.EvalResultSerializer(results, many=True).data, status=status.HTTP_201_CREATED)


class AIBOMView(RegistryAPIView):
    @extend_schema(
        responses={200: OpenApiTypes.OBJECT, 404: ERRORS[404]},
        summary="The version as a CycloneDX 1.6 ML-BOM (JSON) with modelCard",
    )
    def get(self, request: Request, pk: int) -> Response:
        version = _version(request, pk)
        document = build_aibom(version)
        response = Response(document)
        response["Content-Disposition"] = aibom_content_disposition(version)
        return response


class CompareView(RegistryAPIView):
    @extend_schema(
        parameters=[OpenApiParameter("ids", str, description="2–4 version ids, comma-separated")],
        responses={200: s.CompareSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        raw = request.query_params.get("ids", "")
        ids = [parse_id(part) for part in raw.split(",") if part.strip()]
        if None in ids:
            raise DomainError(
                "ids must be comma-separated version ids.", fields={"ids": ["Integers."]}
            )
        versions = selectors.versions_for_compare(request.user, [i for i in ids if i is not None])
        return Response(
            {
                "versions": s.VersionDetailSerializer(versions, many=True).data,
                "rows": selectors.compare_table(versions),
            }
        )


class ApprovalQueueView(generics.ListAPIView[ModelVersion]):
    """Versions waiting for a decision, with whether you may decide each."""

    scope_prefix = "registry"
    serializer_class = s.ApprovalQueueItemSerializer

    def get_queryset(self) -> QuerySet[ModelVersion]:
        return selectors.approval_queue(self.request.user)

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "rights": DecisionRights(self.request.user)}


class LicenseListView(generics.ListAPIView[License]):
    scope_prefix = "registry"
    serializer_class = s.LicenseSerializer

    def get_queryset(self) -> QuerySet[License]:
        return selectors.licenses_visible_to(self.request.user)

    @extend_schema(request=s.LicenseWriteSerializer, responses={201: s.LicenseSerializer, **ERRORS})
    def post(self, request: Request) -> Response:
        body = s.LicenseWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        spdx_id = data.pop("spdx_id")
        from registry.licensing import normalise_license_id

        if License.objects.filter(spdx_id__iexact=normalise_license_id(spdx_id)).exists():
            from config.exceptions import Conflict

            raise Conflict(f"Licence '{spdx_id}' is already in the catalog.")
        lic = services.license_ensure(actor=request.user, spdx_id=spdx_id, **data)
        return Response(s.LicenseSerializer(lic).data, status=status.HTTP_201_CREATED)


class LicenseDetailView(RegistryAPIView):
    @extend_schema(responses={200: s.LicenseSerializer, 404: ERRORS[404]})
    def get(self, request: Request, spdx_id: str) -> Response:
        lic = selectors.licenses_visible_to(request.user).filter(spdx_id__iexact=spdx_id).first()
        if lic is None:
            raise NotFound(f"No licence '{spdx_id}' in the catalog.")
        return Response(s.LicenseSerializer(lic).data)


class CardImportView(RegistryAPIView):
    """Import a Hugging Face model card (README with YAML front matter), parsed offline.
    ``dry_run`` returns the preview (licence, base model, datasets, evals, warnings) only."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        request=s.CardImportSerializer,
        responses={200: s.CardImportResultSerializer, 201: s.CardImportResultSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        body = s.CardImportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        upload = data.pop("file", None)
        content: str | bytes = (
            read_upload(upload, limit=services.MAX_CARD_BYTES, what=f"The model card {upload.name}")
            if upload is not None
            else data.pop("content", "")
        )
        data.pop("content", None)
        if data.pop("dry_run"):
            if not can_read(request.user):
                raise NotFound("Nothing to preview.")
            preview = services.parse_model_card(content, hf_repo_id=data.get("hf_repo_id", ""))
            return Response({"preview": preview.as_dict(), "model": None, "version_id": None})
        model, version, preview = services.model_card_import(
            actor=request.user,  # type: ignore[arg-type]
            content=content,
            hf_repo_id=data.pop("hf_repo_id", ""),
            owner_team=_team(data.pop("owner_team", None)),
            version_label=data.pop("version_label", ""),
            overrides=data,
        )
        detail = selectors.model_detail(request.user, model.slug)
        return Response(
            {
                "preview": preview.as_dict(),
                "model": s.ModelDetailSerializer(detail).data,
                "version_id": version.pk,
            },
            status=status.HTTP_201_CREATED,
        )
