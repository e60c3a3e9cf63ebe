"""Cross-cutting HTTP middleware: request ids, security headers, database outages."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
# A caller may pass its own id so that its logs and ours join up; anything else is replaced.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # django.request logs a response after the middleware chain has returned (and the
        # context variable was reset), but it attaches the request to the record.
        request = getattr(record, "request", None)
        record.request_id = getattr(request, "request_id", None) or request_id_var.get()
        return True


class RequestIdMiddleware:
    header = "X-Request-ID"

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(self.header, "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[self.header] = request_id
        return response


class SecurityHeadersMiddleware:
    """Headers Django 5.2 does not set itself: Content-Security-Policy, Permissions-Policy."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith("/api/docs"):
            # Swagger UI runs an inline bootstrap script; it is served from our own static files.
            response.setdefault(
                "Content-Security-Policy",
                settings.CONTENT_SECURITY_POLICY.replace(
                    "script-src 'self'", "script-src 'self' 'unsafe-inline'"
                ).replace("style-src 'self'", "style-src 'self' 'unsafe-inline'"),
            )
        response.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response


class NulInPathMiddleware:
    """A path with a NUL character names nothing: 404 before any view looks it up.

    Path parts such as ``<str:reference>`` are looked up in the database, and PostgreSQL text
    cannot hold NUL: the lookup raised a DataError (500) instead of finding nothing.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path:
            from config.views import error_404

            return error_404(request)
        return self.get_response(request)


# Room for the multipart framing and the other fields of a request carrying the largest file.
UPLOAD_FRAMING_ALLOWANCE = 64 * 1024


def declared_length(request: HttpRequest) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


class UploadLimitMiddleware:
    """Refuse a request body larger than ``STEWARD_MAX_UPLOAD_BYTES`` with 413 before it is read.

    Django spools multipart files to disk whatever their size (files do not count towards
    ``DATA_UPLOAD_MAX_MEMORY_SIZE``); this bounds every endpoint, so no view reads, parses or
    stores more than the largest upload the README promises to accept. Endpoints with smaller
    limits (model cards, lm-eval results) check each file's size themselves.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        length = declared_length(request)
        limit = settings.STEWARD_MAX_UPLOAD_BYTES
        if length > limit + UPLOAD_FRAMING_ALLOWANCE:
            from config.api import error_body
            from config.uploads import PayloadTooLarge, byte_size

            message = f"The request is {length:,} bytes; uploads are limited to {byte_size(limit)}."
            if request.path.startswith("/api/"):
                return JsonResponse(error_body(PayloadTooLarge.code, message), status=413)
            from django.shortcuts import render

            return render(request, "413.html", {"message": message}, status=413)
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """Answer 503 instead of 500 while the database is unreachable.

    Connection errors surface as OperationalError/InterfaceError; with CONN_HEALTH_CHECKS the
    next request after the outage reconnects by itself, so the app never needs a restart.
    This hook sees errors raised by views; errors raised in middleware (the session lookup,
    the session save, axes) never reach a ``process_exception``: Django turns them into the
    500 handler, and ``config.views.error_500`` sends those through ``database_outage_response``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return database_outage_response(request, exception)


def database_outage_response(
    request: HttpRequest, exception: BaseException | None
) -> HttpResponse | None:
    """The 503 for a lost database connection, or None when ``exception`` is something else."""
    if not isinstance(exception, OperationalError | InterfaceError):
        return None
    if not _is_connection_error(exception):
        return None
    logger.warning("database unavailable: %s", exception)
    return service_unavailable(request, "The database is unavailable; try again shortly.")


def _is_connection_error(exc: BaseException) -> bool:
    if isinstance(exc, InterfaceError):
        return True
    text = str(exc).lower()
    markers = (
        "connection",
        "server closed",
        "terminating",
        "could not connect",
        "the database system is",
        "database is locked",
    )
    return any(marker in text for marker in markers)


def service_unavailable(request: HttpRequest, message: str) -> HttpResponse:
    if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
        response: HttpResponse = JsonResponse(
            {"error": {"code": "service_unavailable", "message": message, "fields": {}}},
            status=503,
        )
    else:
        # Rendered without the request: context processors would touch the session (and so
        # the database that is down).
        response = HttpResponse(render_to_string("503.html", {"message": message}), status=503)
    response["Retry-After"] = "5"
    return response
