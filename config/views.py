"""Site-wide views: dashboard, health probes and error pages."""

from __future__ import annotations

import logging
import os
import sys
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from config.api import error_body, request_body_refusal
from config.middleware import database_outage_response

logger = logging.getLogger(__name__)

_PANEL_APPS = ["registry", "policy", "provenance", "audit"]


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Each app may add panels through ``<app>/dashboard.py: panels(user) -> list[dict]``."""
    panels: list[dict[str, Any]] = []
    for app in _PANEL_APPS:
        try:
            module = import_module(f"{app}.dashboard")
        except ModuleNotFoundError:
            continue
        panels.extend(module.panels(request.user))
    for panel in panels:
        # A missing key would make the template find dict.items() instead.
        panel.setdefault("items", [])
    return render(request, "config/dashboard.html", {"panels": panels})


def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive. Touches nothing else."""
    return JsonResponse({"status": "ok"})


def _check_database() -> str | None:
    try:
        connection = connections["default"]
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        connections["default"].close_if_unusable_or_obsolete()
        return f"database unreachable: {exc.__class__.__name__}: {str(exc).strip()[:200]}"
    return None


def _check_broker() -> str | None:
    url = settings.CELERY_BROKER_URL
    if url.startswith("filesystem://"):
        folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]
        if not os.access(str(folder), os.W_OK):
            return f"broker folder not writable: {folder}"
        return None
    from config.celery import app

    try:
        with app.connection_for_write(url) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
    except Exception as exc:
        return f"broker unreachable: {exc.__class__.__name__}: {str(exc).strip()[:200]}"
    return None


def readyz(request: HttpRequest) -> JsonResponse:
    """Ready to serve: the database and the broker answer. 503 names what does not."""
    checks = {"database": _check_database(), "broker": _check_broker()}
    failing = {name: problem for name, problem in checks.items() if problem}
    if failing:
        logger.warning("not ready: %s", failing)
        return JsonResponse(
            {
                "status": "unavailable",
                "checks": {name: (problem or "ok") for name, problem in checks.items()},
                "error": {
                    "code": "service_unavailable",
                    "message": "; ".join(failing.values()),
                    "fields": {},
                },
            },
            status=503,
        )
    return JsonResponse({"status": "ok", "checks": {name: "ok" for name in checks}})


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(error_body("not_found", "No such resource."), status=404)
    return render(request, "404.html", status=404)


# CSRF-exempt: it changes nothing, and a CI client POSTing to a mistyped API path must learn
# that the path is wrong (404), not that a browser cookie is missing (403).
@csrf_exempt
def api_not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    return JsonResponse(error_body("not_found", f"No API endpoint at {request.path}."), status=404)


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(
            error_body("permission_denied", "You do not have permission to do this."), status=403
        )
    # Views refuse with the service's sentence (config.exceptions.raise_if_refused): say why.
    return render(request, "403.html", {"message": str(exception or "")}, status=403)


def error_400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    # A body over Django's limits (size, number of fields or files) is refused while it is
    # read, often in a middleware (the CSRF check reads the form): say which limit, and a
    # body that is too large is a 413, not a 400.
    refused = request_body_refusal(exception)
    if refused is not None:
        status_code, body = refused
        if _wants_json(request):
            return JsonResponse(body, status=status_code)
        template = "413.html" if status_code == 413 else "400.html"
        return render(request, template, {"message": body["error"]["message"]}, status=status_code)
    if _wants_json(request):
        return JsonResponse(error_body("bad_request", "Bad request."), status=400)
    return render(request, "400.html", status=400)


def error_500(request: HttpRequest) -> HttpResponse:
    # Django calls this handler inside its ``except`` block, for errors raised anywhere,
    # middleware included: a lost database connection there is an outage (503), not a bug.
    outage = database_outage_response(request, sys.exc_info()[1])
    if outage is not None:
        return outage
    if _wants_json(request):
        return JsonResponse(
            error_body("server_error", "Internal error; it has been logged."), status=500
        )
    return render(request, "500.html", status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if _wants_json(request):
        return JsonResponse(error_body("csrf_failed", f"CSRF check failed: {reason}"), status=403)
    return render(
        request, "403.html", {"reason": "Your form expired; reload and try again."}, status=403
    )
