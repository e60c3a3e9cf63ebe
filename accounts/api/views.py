from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.api.serializers import (
    ApiTokenCreatedSerializer,
    ApiTokenCreateSerializer,
    ApiTokenSerializer,
    MeSerializer,
)
from accounts.models import ApiToken
from accounts.roles import role_names
from accounts.selectors import tokens_visible_to
from config.api import PaginatedListMixin, paginated_response


class MeView(APIView):
    """Who the caller is: roles, teams, and the scopes of the token used (if any)."""

    required_scopes = {"GET": "registry:read"}

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        user = request.user
        token = request.auth if isinstance(request.auth, ApiToken) else None
        data = {
            "username": user.username,
            "roles": sorted(role_names(user)),
            "teams": list(user.teams.values_list("slug", flat=True)),  # type: ignore[union-attr]
            "token_scopes": token.scopes if token else None,
        }
        return Response(MeSerializer(data).data)  # type: ignore[arg-type]


class TokenListView(PaginatedListMixin, APIView):
    """Your API tokens (admins see all). Managed from a browser session only: a token
    cannot mint other tokens."""

    @extend_schema(responses=ApiTokenSerializer(many=True))
    def get(self, request: Request) -> Response:
        tokens = tokens_visible_to(request.user).order_by("-created_at", "-pk")  # type: ignore[arg-type]
        return paginated_response(self, request, tokens, ApiTokenSerializer)

    @extend_schema(request=ApiTokenCreateSerializer, responses={201: ApiTokenCreatedSerializer})
    def post(self, request: Request) -> Response:
        body = ApiTokenCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        token, secret = services.token_create(
            actor=request.user,  # type: ignore[arg-type]
            owner=request.user,  # type: ignore[arg-type]
            **body.validated_data,
        )
        data = ApiTokenSerializer(token).data | {"token": secret}
        return Response(data, status=status.HTTP_201_CREATED)


class TokenDetailView(APIView):
    @extend_schema(responses=ApiTokenSerializer)
    def get(self, request: Request, pk: int) -> Response:
        token = get_object_or_404(tokens_visible_to(request.user), pk=pk)  # type: ignore[arg-type]
        return Response(ApiTokenSerializer(token).data)

    # Revoking answers 200 with the revoked token (not 204): the caller sees revoked_at.
    @extend_schema(responses={200: ApiTokenSerializer})
    def delete(self, request: Request, pk: int) -> Response:
        token = get_object_or_404(tokens_visible_to(request.user), pk=pk)  # type: ignore[arg-type]
        token = services.token_revoke(actor=request.user, token=token)  # type: ignore[arg-type]
        return Response(ApiTokenSerializer(token).data)
