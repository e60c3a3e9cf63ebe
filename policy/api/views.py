"""REST adapters over policy services and selectors.

Scopes: ``POST policy/check`` and ``GET policy/ping`` need ``policy:check``; every other
GET accepts ``policy:check`` or ``policy:write``; every write needs ``policy:write``.
Roles still apply on top of scopes (see policy/roles.py)."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiToken
from config.api import PaginatedListMixin, paginated_response
from config.exceptions import DomainError, NotAllowed, Unprocessable
from config.ids import parse_id
from policy import selectors, services
from policy.api.serializers import (
    CheckRequestSerializer,
    CheckResponseSerializer,
    DecisionSerializer,
    DeploymentSerializer,
    DeploymentUpdateSerializer,
    DeploymentWriteSerializer,
    DiffSerializer,
    PingSerializer,
    PolicyCreateSerializer,
    PolicySerializer,
    PolicyUpdateSerializer,
    PolicyVersionSerializer,
    RegionSerializer,
    RuleSerializer,
    RuleUpdateSerializer,
    RuleWriteSerializer,
    SimulationSerializer,
    UseCaseSerializer,
    VersionCreateSerializer,
    VersionUpdateSerializer,
    WaiverCreateSerializer,
    WaiverDecisionSerializer,
    WaiverSerializer,
    decision_response,
)
from policy.diff import version_diff
from policy.factcache import parse_token, token_subquery_sql
from policy.facts import DeploymentSpec, resolve_version
from policy.filtersets import DecisionFilterSet, DeploymentFilterSet, WaiverFilterSet

SAFE = ("GET", "HEAD", "OPTIONS")


class PolicyScoped(APIView):
    """Reads with ``policy:check`` or ``policy:write``; writes with ``policy:write``."""

    def get_required_scope(self, request: Request) -> str:
        if request.method in SAFE:
            token = request.auth
            if (
                isinstance(token, ApiToken)
                and token.has_scope("policy:write")
                and not token.has_scope("policy:check")
            ):
                return "policy:write"
            return "policy:check"
        return "policy:write"


def _paginate(view: Any, request: Request, qs: Any, serializer: Any) -> Response:
    return paginated_response(view, request, qs, serializer)


def filter_parameters(filterset: Any) -> list[OpenApiParameter]:
    return [OpenApiParameter(name, str) for name in filterset.base_filters] + [
        OpenApiParameter("page", int),
        OpenApiParameter("page_size", int),
    ]


ListMixin = PaginatedListMixin


class PingView(APIView):
    """Authenticate and do nothing: CI's connectivity check (``steward ping``)."""

    required_scopes = {"GET": "policy:check"}

    @extend_schema(responses=PingSerializer)
    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class CheckView(APIView):
    """Decide whether a deployment complies with every active policy. 200 for both
    verdicts; unknown model, version, region, use case or deployment is a 422 naming it."""

    required_scopes = {"POST": "policy:check"}

    def token_extra_columns(self) -> dict[str, str]:
        """The fact cache's token, read with the API token (one round trip less per check)."""
        return {"facts_token": token_subquery_sql(connection.vendor)}

    @extend_schema(request=CheckRequestSerializer, responses=CheckResponseSerializer)
    def post(self, request: Request) -> Response:
        body = CheckRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        facts_token = parse_token(getattr(request.auth, "facts_token", None))
        if data.get("deployment"):
            decision = services.check_deployment(
                actor=request.user, reference=data["deployment"], facts_token=facts_token
            )
        else:
            spec = DeploymentSpec(
                model=data["model"],
                version=data.get("version"),
                environment=data["environment"],
                region=data["region"],
                use_case=data.get("use_case"),
                data_classification=data.get("data_classification") or [],
                hosting=data.get("hosting"),
                data_subject_region=data["data_subject_region"],
                expected_mau=data.get("expected_mau"),
                commercial=data["commercial"],
            )
            decision = services.check_spec(actor=request.user, spec=spec, facts_token=facts_token)
        return Response(decision_response(decision))


class DecisionListView(ListMixin, PolicyScoped):
    @extend_schema(
        parameters=filter_parameters(DecisionFilterSet),
        responses=DecisionSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        qs = selectors.decisions_visible_to(request.user)
        filtered = DecisionFilterSet(request.query_params, queryset=qs)
        if not filtered.is_valid():
            raise DomainError("Invalid filter.", fields=filtered.errors)
        return _paginate(self, request, filtered.qs, DecisionSerializer)


class DecisionDetailView(PolicyScoped):
    @extend_schema(responses=DecisionSerializer)
    def get(self, request: Request, decision_id: str) -> Response:
        return Response(DecisionSerializer(selectors.decision_get(request.user, decision_id)).data)


class PolicyListView(ListMixin, PolicyScoped):
    @extend_schema(responses=PolicySerializer(many=True))
    def get(self, request: Request) -> Response:
        return _paginate(
            self, request, selectors.policies_visible_to(request.user), PolicySerializer
        )

    @extend_schema(request=PolicyCreateSerializer, responses={201: PolicySerializer})
    def post(self, request: Request) -> Response:
        body = PolicyCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        policy = services.policy_create(actor=request.user, **body.validated_data)  # type: ignore[arg-type]
        return Response(PolicySerializer(policy).data, status=status.HTTP_201_CREATED)


class PolicyDetailView(PolicyScoped):
    @extend_schema(responses=PolicySerializer)
    def get(self, request: Request, slug: str) -> Response:
        return Response(PolicySerializer(selectors.policy_get(request.user, slug)).data)

    @extend_schema(request=PolicyUpdateSerializer, responses=PolicySerializer)
    def patch(self, request: Request, slug: str) -> Response:
        policy = selectors.policy_get(request.user, slug)
        body = PolicyUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        policy = services.policy_update(actor=request.user, policy=policy, **body.validated_data)  # type: ignore[arg-type]
        return Response(PolicySerializer(policy).data)


class VersionListView(ListMixin, PolicyScoped):
    @extend_schema(responses=PolicyVersionSerializer(many=True))
    def get(self, request: Request, slug: str) -> Response:
        policy = selectors.policy_get(request.user, slug)
        qs = policy.versions.select_related("policy", "created_by", "published_by")
        return _paginate(self, request, qs.prefetch_related("rules"), PolicyVersionSerializer)

    @extend_schema(request=VersionCreateSerializer, responses={201: PolicyVersionSerializer})
    def post(self, request: Request, slug: str) -> Response:
        policy = selectors.policy_get(request.user, slug)
        body = VersionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        source = None
        if body.validated_data.get("from_version"):
            source = selectors.version_get(request.user, slug, body.validated_data["from_version"])
        version = services.version_create_draft(
            actor=request.user,  # type: ignore[arg-type]
            policy=policy,
            from_version=source,
            notes=body.validated_data["notes"],
        )
        return Response(PolicyVersionSerializer(version).data, status=status.HTTP_201_CREATED)


class VersionDetailView(PolicyScoped):
    @extend_schema(responses=PolicyVersionSerializer)
    def get(self, request: Request, slug: str, number: int) -> Response:
        return Response(
            PolicyVersionSerializer(selectors.version_get(request.user, slug, number)).data
        )

    @extend_schema(request=VersionUpdateSerializer, responses=PolicyVersionSerializer)
    def patch(self, request: Request, slug: str, number: int) -> Response:
        version = selectors.version_get(request.user, slug, number)
        body = VersionUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        version = services.version_update(
            actor=request.user,  # type: ignore[arg-type]
            version=version,
            **body.validated_data,
        )
        return Response(PolicyVersionSerializer(version).data)


class VersionPublishView(PolicyScoped):
    """Freeze the draft, make it active and re-evaluate deployments. A syntax or type error
    in any rule is a 400 naming the rule and the position."""

    @extend_schema(request=None, responses=PolicyVersionSerializer)
    def post(self, request: Request, slug: str, number: int) -> Response:
        version = selectors.version_get(request.user, slug, number)
        version = services.version_publish(actor=request.user, version=version)  # type: ignore[arg-type]
        return Response(PolicyVersionSerializer(version).data)


class VersionSimulateView(PolicyScoped):
    """What-if: which deployments would newly be denied or allowed with this version."""

    @extend_schema(request=None, responses=SimulationSerializer)
    def post(self, request: Request, slug: str, number: int) -> Response:
        version = selectors.version_get(request.user, slug, number)
        return Response(services.simulate_version(actor=request.user, version=version))  # type: ignore[arg-type]


class VersionDiffView(PolicyScoped):
    @extend_schema(
        parameters=[OpenApiParameter("against", int, description="Default: the previous version")],
        responses=DiffSerializer,
    )
    def get(self, request: Request, slug: str, number: int) -> Response:
        version = selectors.version_get(request.user, slug, number)
        against = request.query_params.get("against")
        against_number = parse_id(against) if against else max(number - 1, 1)
        if against_number is None:
            raise DomainError(
                "'against' must be a version number.", fields={"against": ["Number."]}
            )
        other = selectors.version_get(request.user, slug, against_number)
        return Response(version_diff(other, version))


class RuleListView(ListMixin, PolicyScoped):
    @extend_schema(responses=RuleSerializer(many=True))
    def get(self, request: Request, slug: str, number: int) -> Response:
        version = selectors.version_get(request.user, slug, number)
        return _paginate(self, request, version.rules.all(), RuleSerializer)

    @extend_schema(request=RuleWriteSerializer, responses={201: RuleSerializer})
    def post(self, request: Request, slug: str, number: int) -> Response:
        version = selectors.version_get(request.user, slug, number)
        body = RuleWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rule = services.rule_create(actor=request.user, version=version, **body.validated_data)  # type: ignore[arg-type]
        return Response(RuleSerializer(rule).data, status=status.HTTP_201_CREATED)


class RuleDetailView(PolicyScoped):
    @extend_schema(responses=RuleSerializer)
    def get(self, request: Request, slug: str, number: int, rule_id: str) -> Response:
        return Response(
            RuleSerializer(selectors.rule_get(request.user, slug, number, rule_id)).data
        )

    @extend_schema(request=RuleUpdateSerializer, responses=RuleSerializer)
    def patch(self, request: Request, slug: str, number: int, rule_id: str) -> Response:
        rule = selectors.rule_get(request.user, slug, number, rule_id)
        body = RuleUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rule = services.rule_update(actor=request.user, rule=rule, **body.validated_data)  # type: ignore[arg-type]
        return Response(RuleSerializer(rule).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, slug: str, number: int, rule_id: str) -> Response:
        rule = selectors.rule_get(request.user, slug, number, rule_id)
        services.rule_delete(actor=request.user, rule=rule)  # type: ignore[arg-type]
        return Response(status=status.HTTP_204_NO_CONTENT)


def _version_for(model: str, label: str | None) -> Any:
    return resolve_version(model, label, timezone.now())


class DeploymentListView(ListMixin, PolicyScoped):
    @extend_schema(
        parameters=filter_parameters(DeploymentFilterSet),
        responses=DeploymentSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        filtered = DeploymentFilterSet(
            request.query_params, queryset=selectors.deployments_visible_to(request.user)
        )
        if not filtered.is_valid():
            raise DomainError("Invalid filter.", fields=filtered.errors)
        return _paginate(self, request, filtered.qs, DeploymentSerializer)

    @extend_schema(request=DeploymentWriteSerializer, responses={201: DeploymentSerializer})
    def post(self, request: Request) -> Response:
        body = DeploymentWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        version = _version_for(data.pop("model"), data.pop("version", None))
        deployment = services.deployment_create(
            actor=request.user,  # type: ignore[arg-type]
            model_version=version,
            **data,
        )
        deployment = selectors.deployment_get(request.user, deployment.slug)
        return Response(DeploymentSerializer(deployment).data, status=status.HTTP_201_CREATED)


class DeploymentDetailView(PolicyScoped):
    @extend_schema(responses=DeploymentSerializer)
    def get(self, request: Request, reference: str) -> Response:
        return Response(
            DeploymentSerializer(selectors.deployment_get(request.user, reference)).data
        )

    @extend_schema(request=DeploymentUpdateSerializer, responses=DeploymentSerializer)
    def patch(self, request: Request, reference: str) -> Response:
        deployment = selectors.deployment_get(request.user, reference)
        body = DeploymentUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        model, label = data.pop("model", None), data.pop("version", None)
        if model or label:
            data["model_version"] = _version_for(
                model or deployment.model_version.model.slug, label
            )
        services.deployment_update(actor=request.user, deployment=deployment, **data)  # type: ignore[arg-type]
        return Response(
            DeploymentSerializer(selectors.deployment_get(request.user, reference)).data
        )


class DeploymentEvaluateView(PolicyScoped):
    """Evaluate now (the deployment is blocked or unblocked by the verdict)."""

    @extend_schema(request=None, responses=CheckResponseSerializer)
    def post(self, request: Request, reference: str) -> Response:
        deployment = selectors.deployment_get(request.user, reference)
        from policy.services.deployments import can_edit_deployment

        if not can_edit_deployment(request.user, deployment):  # type: ignore[arg-type]
            raise NotAllowed("You cannot re-evaluate this deployment.")
        decision = services.deployment_evaluate(
            actor=request.user, deployment=deployment, source="api"
        )
        return Response(decision_response(decision))


class WaiverListView(ListMixin, PolicyScoped):
    @extend_schema(
        parameters=filter_parameters(WaiverFilterSet), responses=WaiverSerializer(many=True)
    )
    def get(self, request: Request) -> Response:
        filtered = WaiverFilterSet(
            request.query_params, queryset=selectors.waivers_visible_to(request.user)
        )
        if not filtered.is_valid():
            raise DomainError("Invalid filter.", fields=filtered.errors)
        return _paginate(self, request, filtered.qs, WaiverSerializer)

    @extend_schema(request=WaiverCreateSerializer, responses={201: WaiverSerializer})
    def post(self, request: Request) -> Response:
        body = WaiverCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        policy = selectors.policy_get(request.user, data["policy"])
        deployment = version = None
        if data.get("deployment"):
            deployment = selectors.deployment_get(request.user, data["deployment"])
        if data.get("model"):
            version = _version_for(data["model"], data.get("version"))
        if deployment is None and version is None:
            raise Unprocessable(
                "Name a deployment, or a model (and version).",
                fields={"deployment": ["Give a deployment or a model."]},
            )
        waiver = services.waiver_request(
            actor=request.user,  # type: ignore[arg-type]
            policy=policy,
            rule_id=data["rule_id"],
            justification=data["justification"],
            expires_at=data["expires_at"],
            deployment=deployment,
            model_version=version,
        )
        return Response(WaiverSerializer(waiver).data, status=status.HTTP_201_CREATED)


class WaiverDetailView(PolicyScoped):
    @extend_schema(responses=WaiverSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(WaiverSerializer(selectors.waiver_get(request.user, pk)).data)


class WaiverActionView(PolicyScoped):
    action = ""

    @extend_schema(request=WaiverDecisionSerializer, responses=WaiverSerializer)
    def post(self, request: Request, pk: int) -> Response:
        waiver = selectors.waiver_get(request.user, pk)
        body = WaiverDecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        comment = body.validated_data["comment"]
        if self.action == "revoke":
            waiver = services.waiver_revoke(actor=request.user, waiver=waiver, comment=comment)  # type: ignore[arg-type]
        else:
            waiver = services.waiver_decide(
                actor=request.user,  # type: ignore[arg-type]
                waiver=waiver,
                approve=self.action == "approve",
                comment=comment,
            )
        return Response(WaiverSerializer(selectors.waiver_get(request.user, waiver.pk)).data)


class WaiverApproveView(WaiverActionView):
    action = "approve"


class WaiverRejectView(WaiverActionView):
    action = "reject"


class WaiverRevokeView(WaiverActionView):
    action = "revoke"


class RegionListView(ListMixin, PolicyScoped):
    @extend_schema(responses=RegionSerializer(many=True))
    def get(self, request: Request) -> Response:
        return _paginate(self, request, selectors.regions(), RegionSerializer)


class UseCaseListView(ListMixin, PolicyScoped):
    @extend_schema(responses=UseCaseSerializer(many=True))
    def get(self, request: Request) -> Response:
        return _paginate(
            self, request, selectors.use_cases().order_by("name", "slug"), UseCaseSerializer
        )
