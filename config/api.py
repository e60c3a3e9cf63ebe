"""Shared REST plumbing: one error shape for every failure, and pagination.

Every error the API returns looks like::

    {"error": {"code": "not_found", "message": "...", "fields": {"name": ["..."]}}}
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.exceptions import DomainError
from config.uploads import byte_size

logger = logging.getLogger(__name__)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "format": "uri"},
            {"type": "string", "maxLength": 0, "description": "empty when unknown"},
        ]
    }
)
class OptionalURLField(serializers.URLField):
    """A URL that may be blank: the schema must admit "" too, or clients reject the data."""


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


class PaginatedListMixin:
    """For an ``APIView`` whose GET lists: paginated like the generic list views
    (``{"count", "next", "previous", "results"}``), and documented so by drf-spectacular,
    which wraps a ``many=True`` response of a view with a ``pagination_class``."""

    pagination_class = Pagination

    @property
    def paginator(self) -> Pagination:
        if not hasattr(self, "_paginator"):
            self._paginator = self.pagination_class()
        return self._paginator


def paginated_response(
    view: PaginatedListMixin, request: Any, queryset: Any, serializer: Any, **kwargs: Any
) -> Response:
    """One page of ``queryset`` (which must be ordered) serialised by ``serializer``."""
    page: list[Any] | None = view.paginator.paginate_queryset(
        queryset,
        request,
        view=view,  # type: ignore[arg-type]
    )
    return view.paginator.get_paginated_response(serializer(page, many=True, **kwargs).data)


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def request_body_refusal(exc: BaseException | None) -> tuple[int, dict[str, Any]] | None:
    """Status and error body for a request Django refused while reading its body, or None.

    Django raises these (SuspiciousOperation subclasses) while parsing, before any view code
    runs, and would answer a bare "Bad request.". The API's exception handler and the site's
    400 handler (errors raised outside DRF, e.g. in the CSRF middleware) both answer with this.
    """
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        message = (
            f"The request body is larger than the {byte_size(limit)} allowed"
            " (files sent as multipart/form-data parts do not count towards it)."
        )
        return 413, error_body("payload_too_large", message)
    if isinstance(exc, TooManyFilesSent | TooManyFieldsSent):
        # A batch larger than this is sent in several requests.
        kind, count = (
            ("files", settings.DATA_UPLOAD_MAX_NUMBER_FILES)
            if isinstance(exc, TooManyFilesSent)
            else ("fields", settings.DATA_UPLOAD_MAX_NUMBER_FIELDS)
        )
        message = f"A request may carry at most {count} {kind}; send the rest in another request."
        return 400, error_body(f"too_many_{kind}", message)
    return None


def _flatten_detail(detail: Any) -> Any:
    if isinstance(detail, list):
        return [_flatten_detail(item) for item in detail]
    if isinstance(detail, dict):
        return {key: _flatten_detail(value) for key, value in detail.items()}
    return str(detail)


def _first_message(fields: Any) -> str:
    if isinstance(fields, dict):
        for key, value in fields.items():
            inner = _first_message(value)
            return inner if key == "non_field_errors" else f"{key}: {inner}"
    if isinstance(fields, list) and fields:
        return _first_message(fields[0])
    return str(fields)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status_code)
    refused = request_body_refusal(exc)
    if refused is not None:
        status_code, body = refused
        return Response(body, status=status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)

    response = drf_exception_handler(exc, context)
    if response is None:
        return None

    if isinstance(exc, exceptions.ValidationError):
        detail = _flatten_detail(exc.detail)
        fields = detail if isinstance(detail, dict) else {"non_field_errors": detail}
        response.data = error_body("invalid", _first_message(fields), fields)
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        code = exc.get_codes()
        code_str = code if isinstance(code, str) else exc.default_code
        message = str(detail) if not isinstance(detail, dict | list) else _first_message(detail)
        response.data = error_body(code_str, message)
    return response


def json_error(request: HttpRequest, code: str, message: str, status_code: int) -> JsonResponse:
    return JsonResponse(error_body(code, message), status=status_code)
