"""The auditor's pages: explorer, event detail, exports. Thin over selectors and services."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from audit import selectors, services
from audit.api.views import export_file_response
from audit.exports.bundle import read_member
from audit.filtersets import AuditEventFilterSet
from audit.forms import ExportForm
from audit.keys import public_keys, public_pem
from audit.models import ExportFormat, JobStatus, ReportExport
from config.exceptions import DomainError, NotAllowed
from config.filters import filter_status, filtered


def auditor_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in, and allowed to read the trail (auditors, admins); otherwise 403."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            selectors.require_reader(request.user)
            return view(request, *args, **kwargs)
        except NotAllowed as exc:
            raise PermissionDenied(exc.message) from exc

    return wrapper


def _status_context() -> dict[str, Any]:
    return {"chain": selectors.chain_status()}


@auditor_page
def event_list(request: HttpRequest) -> HttpResponse:
    filterset = AuditEventFilterSet(
        data=request.GET or None, queryset=selectors.events_visible_to(request.user)
    )
    page = Paginator(filtered(filterset), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/event_list.html",
        {
            "filterset": filterset,
            "page": page,
            "query": query.urlencode(),
            "can_export": selectors.can_export_audit(request.user),
            **_status_context(),
        },
        status=filter_status(filterset),
    )


@auditor_page
def event_detail(request: HttpRequest, seq: int) -> HttpResponse:
    event = selectors.event_detail(request.user, seq)
    if event is None:
        raise Http404("No such event.")
    return render(
        request,
        "audit/event_detail.html",
        {"event": event, "diff": selectors.diff_rows(event.changes or {}), **_status_context()},
    )


@auditor_page
@require_POST
def verify_request(request: HttpRequest) -> HttpResponse:
    services.chain_verification_request(actor=request.user)
    messages.success(request, "Verification queued: the status badge updates when it finishes.")
    return redirect("audit:event-list")


@auditor_page
def export_list(request: HttpRequest) -> HttpResponse:
    can_export = selectors.can_export_audit(request.user)
    form = ExportForm(request.POST or None, initial={"format": request.GET.get("format")})
    # "Export these events" on the trail links here with its filters in the query string.
    filterset = AuditEventFilterSet(
        data=request.POST or request.GET or None,
        queryset=selectors.events_visible_to(request.user),
    )
    status = 200
    if request.method == "POST":
        if not can_export:
            raise PermissionDenied("Only auditors and admins can export the audit trail.")
        if form.is_valid() and filterset.is_valid():
            try:
                export = services.export_request(
                    actor=request.user,
                    format=form.cleaned_data["format"],
                    filters=request.POST.dict(),
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
                status = 400
            else:
                messages.success(
                    request, f"Export {export.pk} queued; it appears below when ready."
                )
                return redirect("audit:export-list")
        else:
            status = 400
    exports = selectors.exports_visible_to(request.user)[:50]
    return render(
        request,
        "audit/export_list.html",
        {
            "form": form,
            "filterset": filterset,
            "exports": exports,
            "can_export": can_export,
            **_status_context(),
        },
        status=status,
    )


@auditor_page
def export_row(request: HttpRequest, pk: int) -> HttpResponse:
    export = selectors.exports_visible_to(request.user).filter(pk=pk).first()
    if export is None:
        raise Http404("No such export.")
    return render(request, "audit/_export_row.html", {"export": export})


def _downloadable_export(request: HttpRequest, pk: int) -> ReportExport:
    if not selectors.can_export_audit(request.user):
        raise PermissionDenied("Only auditors and admins can download exports.")
    export = selectors.exports_visible_to(request.user).filter(pk=pk).first()
    if export is None:
        raise Http404("No such export.")
    return export


@auditor_page
def export_download(request: HttpRequest, pk: int) -> HttpResponse:
    export = _downloadable_export(request, pk)
    try:
        return export_file_response(export)  # type: ignore[return-value]
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("audit:export-list")


@auditor_page
def export_report(request: HttpRequest, pk: int) -> HttpResponse:
    """The PDF report alone, read from the signed bundle (the bundle is what verifies)."""
    export = _downloadable_export(request, pk)
    if export.status != JobStatus.SUCCEEDED or export.format != ExportFormat.PDF:
        raise Http404("This export has no PDF report.")
    try:
        pdf = read_member(export, "report.pdf")
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        raise Http404("The bundle file is gone.") from exc
    response = HttpResponse(pdf, content_type="application/pdf")
    stem = export.bundle_name.removesuffix(".zip") or f"steward-audit-export-{export.pk}"
    response["Content-Disposition"] = f'attachment; filename="{stem}.pdf"'
    return response


@auditor_page
def export_public_key(request: HttpRequest, pk: int) -> HttpResponse:
    """The public key that signed this export, for ``steward verify-export --key``."""
    export = _downloadable_export(request, pk)
    key_id = (export.manifest or {}).get("key_id")
    key = public_keys().get(key_id) if key_id else None
    if key is None:
        raise Http404("The key that signed this export is unknown here.")
    response = HttpResponse(public_pem(key), content_type="application/x-pem-file")
    response["Content-Disposition"] = 'attachment; filename="audit-public.pem"'
    return response
