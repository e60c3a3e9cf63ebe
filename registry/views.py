"""HTML pages of the registry: thin adapters over registry.selectors and services."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.models import Team
from config.exceptions import DomainError, NotFound, raise_if_refused
from config.filters import filter_status, filtered
from config.ids import parse_id
from config.uploads import PayloadTooLarge, read_upload
from registry import permissions, selectors, services
from registry.aibom import aibom_content_disposition, build_aibom
from registry.filtersets import ModelFilterSet
from registry.forms import (
    ApproveForm,
    CardConfirmForm,
    CardImportForm,
    CommentForm,
    ReasonForm,
    RiskOverrideForm,
    SubmitForm,
)
from registry.licensing import plain_obligations
from registry.models import ModelVersion, OpennessTier, VersionStatus
from registry.openness import COMPONENTS, compute_openness

PAGE_SIZE = 50


def _user(request: HttpRequest) -> Any:
    return request.user


@login_required
def model_list(request: HttpRequest) -> HttpResponse:
    filterset = ModelFilterSet(
        request.GET or None, queryset=selectors.models_visible_to(request.user)
    )
    page = Paginator(filtered(filterset), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "registry/model_list.html",
        {
            "filter": filterset,
            "page": page,
            "query": query.urlencode(),
            "can_import": permissions.can_read(request.user)
            and (request.user.has_role("model_owner") or request.user.has_role("admin")),  # type: ignore[union-attr]
        },
        status=filter_status(filterset),
    )


@login_required
def model_detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        model = selectors.model_detail(request.user, slug)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    rights = permissions.DecisionRights(request.user)
    openness = compute_openness(model.openness_components or {}, model.license.category)
    components = [
        (label, bool((model.openness_components or {}).get(key))) for key, label in COMPONENTS
    ]
    return render(
        request,
        "registry/model_detail.html",
        {
            "model": model,
            "versions": list(model.versions.all()),
            "obligations": plain_obligations(model.license),
            "components": components,
            "openness": openness,
            "openness_label": OpennessTier(model.openness_tier).label,
            "can_edit": permissions.can_edit(request.user, model),
            "may_decide": rights.may_decide(model),
            "submit_form": SubmitForm(),
            "reason_form": ReasonForm(),
            "risk_form": RiskOverrideForm(),
        },
    )


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


def _form_error(form: Any) -> str:
    for field, errors in form.errors.items():
        return f"{field}: {errors[0]}" if field != "__all__" else str(errors[0])
    return "Invalid input."


def _approve(request: HttpRequest, version: ModelVersion) -> str:
    form = ApproveForm(request.POST)
    if not form.is_valid():
        raise DomainError(_form_error(form))
    services.version_approve(
        actor=_user(request),
        version=version,
        conditions=form.conditions(),
        expires_at=form.cleaned_data.get("expires_at"),
        comment=form.cleaned_data.get("comment", ""),
    )
    return f"{version} approved. Deployments that use it are being re-evaluated."


def _with_form(form_class: Any, service: Callable[..., Any], done: str) -> Callable[..., str]:
    def run(request: HttpRequest, version: ModelVersion) -> str:
        form = form_class(request.POST)
        if not form.is_valid():
            raise DomainError(_form_error(form))
        service(actor=_user(request), version=version, **form.cleaned_data)
        return f"{version} {done}."

    return run


ACTIONS: dict[str, Callable[[HttpRequest, ModelVersion], str]] = {
    "submit": _with_form(SubmitForm, services.version_submit, "submitted for approval"),
    "approve": _approve,
    "reject": _with_form(CommentForm, services.version_reject, "rejected"),
    "request-changes": _with_form(
        CommentForm, services.version_request_changes, "sent back for changes"
    ),
    "revoke": _with_form(ReasonForm, services.version_revoke, "revoked"),
    "deprecate": _with_form(ReasonForm, services.version_deprecate, "deprecated"),
    "risk-override": _with_form(RiskOverrideForm, services.risk_override, "risk grade updated"),
}


@login_required
@require_POST
def version_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    handler = ACTIONS.get(action)
    if handler is None:
        raise Http404("No such action.")
    try:
        version = selectors.version_detail(request.user, pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    fallback = reverse("registry:model-detail", args=[version.model.slug])
    try:
        messages.success(request, handler(request, version))
    except DomainError as exc:
        raise_if_refused(exc)
        on_queue = _safe_next(request, fallback) == reverse("registry:approval-queue")
        if action == "approve" and on_queue and version.status == VersionStatus.SUBMITTED:
            # Back on the queue with what the approver ticked and typed, and the errors
            # beside the fields: a redirect would lose every condition they had set.
            form = _approve_form(version, data=request.POST)
            if form.is_valid():
                _place_error(form, exc)
            messages.error(request, f"{version} was not approved: {exc.message}")
            return _render_queue(request, bound={version.pk: form}, status=400)
        messages.error(request, exc.message)
    return redirect(_safe_next(request, fallback))


def _place_error(form: forms.Form, exc: DomainError, rename: dict[str, str] | None = None) -> None:
    """A service's refusal of valid-looking input, beside the field it names if any."""
    placed = False
    for key, errors in (exc.fields or {}).items():
        field = key.removeprefix("conditions.")  # the service names "conditions.regions"
        field = (rename or {}).get(field, field)
        if field in form.fields and not form[field].is_hidden:  # a hidden field shows no error
            for error in errors if isinstance(errors, list) else [errors]:
                form.add_error(field, str(error))
                placed = True
    if not placed:
        form.add_error(None, exc.message)


def _approve_form(version: ModelVersion, data: Any = None) -> ApproveForm:
    # One form per version: its ids must be unique on the page.
    return ApproveForm(data, auto_id=f"approve-{version.pk}-%s")


@login_required
def approval_queue(request: HttpRequest) -> HttpResponse:
    return _render_queue(request)


def _render_queue(
    request: HttpRequest, bound: dict[int, ApproveForm] | None = None, status: int = 200
) -> HttpResponse:
    rights = permissions.DecisionRights(request.user)
    items = []
    for version in selectors.approval_queue(request.user):
        pending = version.pending_approvals[0] if version.pending_approvals else None  # type: ignore[attr-defined]
        own = pending is not None and pending.requested_by_id == request.user.pk
        may_decide = pending is not None and not own and rights.may_decide(version.model_id)
        items.append(
            {
                "version": version,
                "pending": pending,
                "own_request": own,
                "may_decide": may_decide,
                # What the approver reads before deciding, on the page where they decide.
                "obligations": plain_obligations(version.model.license),
                "approve_form": (bound or {}).get(version.pk) or _approve_form(version)
                if may_decide
                else None,
            }
        )
    return render(
        request,
        "registry/approval_queue.html",
        {
            "items": items,
            "comment_form": CommentForm(),
            "recent": selectors.recent_decisions(request.user),
        },
        status=status,
    )


@login_required
def compare(request: HttpRequest) -> HttpResponse:
    raw_ids = request.GET.getlist("v")
    versions: list[ModelVersion] = []
    error = ""
    if raw_ids:
        ids = [parse_id(i) for i in raw_ids]
        try:
            if None in ids:
                error = "Version ids must be numbers."
            else:
                versions = selectors.versions_for_compare(
                    request.user, [i for i in ids if i is not None]
                )
        except DomainError as exc:
            error = exc.message
    choices = selectors.version_choices(request.user)
    return render(
        request,
        "registry/compare.html",
        {
            "versions": versions,
            "rows": selectors.compare_table(versions) if versions else [],
            "choices": choices,
            "selected": {str(v) for v in raw_ids},
            "error": error,
        },
        status=400 if error else 200,
    )


@login_required
def aibom_download(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        version = selectors.version_detail(request.user, pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    response = JsonResponse(build_aibom(version), json_dumps_params={"indent": 2})
    response["Content-Disposition"] = aibom_content_disposition(version)
    return response


def _team_choices(request: HttpRequest) -> list[tuple[str, str]]:
    user = _user(request)
    teams = Team.objects.all() if user.has_role("admin") else user.teams.all()
    return [(t.slug, t.name) for t in teams]


@login_required
def card_import(request: HttpRequest) -> HttpResponse:
    """Step 1: paste/upload → preview with warnings. Step 2: confirm the pre-filled form."""
    teams = _team_choices(request)
    context: dict[str, Any] = {"form": CardImportForm(), "preview": None, "confirm": None}
    status = 200
    if request.method == "POST" and request.POST.get("step") == "confirm":
        confirm = CardConfirmForm(request.POST, teams=teams)
        context["confirm"] = confirm
        if confirm.is_valid():
            data = dict(confirm.cleaned_data)
            team_slug = data.pop("owner_team") or None
            try:
                model, _version, _preview = services.model_card_import(
                    actor=_user(request),
                    content=data.pop("content"),
                    hf_repo_id=data.pop("hf_repo_id") or "",
                    owner_team=Team.objects.filter(slug=team_slug).first() if team_slug else None,
                    version_label=data.pop("version_label"),
                    overrides=data,
                )
            except DomainError as exc:
                raise_if_refused(exc)
                # The service names the version's field "label"; the form "version_label".
                _place_error(confirm, exc, rename={"label": "version_label"})
            else:
                messages.success(request, f"{model.name} imported as a draft.")
                return redirect("registry:model-detail", slug=model.slug)
        try:
            context["preview"] = services.parse_model_card(
                request.POST.get("content", ""), hf_repo_id=request.POST.get("hf_repo_id", "")
            )
        except DomainError:
            context["preview"] = None
        status = 400
    elif request.method == "POST":
        form = CardImportForm(request.POST, request.FILES)
        context["form"] = form
        if form.is_valid():
            upload = form.cleaned_data.get("file")
            try:
                content = (
                    read_upload(
                        upload, limit=services.MAX_CARD_BYTES, what=f"The model card {upload.name}"
                    )
                    if upload
                    else form.cleaned_data["content"]
                )
                preview = services.parse_model_card(
                    content, hf_repo_id=form.cleaned_data.get("hf_repo_id", "")
                )
            except DomainError as exc:
                form.add_error("content" if not upload else "file", exc.message)
                status = 413 if isinstance(exc, PayloadTooLarge) else 400
            else:
                text = content.decode("utf-8") if isinstance(content, bytes) else content
                context["preview"] = preview
                context["confirm"] = CardConfirmForm(
                    initial={
                        "content": text,
                        "hf_repo_id": preview.hf_repo_id,
                        "slug": preview.slug,
                        "name": preview.name,
                        "provider": preview.provider,
                        "provider_jurisdiction": preview.provider_jurisdiction,
                        "license": preview.license_id if preview.license_known else "",
                        "version_label": "1.0",
                    },
                    teams=teams,
                )
        else:
            status = 400
    if context["preview"] is not None:
        context["preview_evals_json"] = json.dumps(len(context["preview"].evals))
    return render(request, "registry/import_card.html", context, status=status)
