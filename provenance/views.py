from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from config.exceptions import DomainError, NotFound
from config.filters import filter_status, filtered
from provenance import services
from provenance.downloads import download_response
from provenance.filtersets import SigningJobFilterSet
from provenance.forms import CredentialForm, SignForm, VerifyForm
from provenance.models import TrainingMining
from provenance.selectors import (
    can_manage_credentials,
    credentials,
    issued_manifest,
    job_for,
    jobs_visible_to,
)


def _form_error(form: Any, exc: DomainError) -> None:
    form.add_error(None, exc.message)


@login_required
def job_list(request: HttpRequest) -> HttpResponse:
    can_sign = request.user.has_perm(services.SIGN_PERMISSION)
    form = SignForm()
    status = 200
    if request.method == "POST":
        if not can_sign:
            raise PermissionDenied("Your role does not allow signing media.")
        form = SignForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                jobs = services.signing_jobs_submit(
                    actor=request.user,
                    files=data["uploads"],
                    model_version_id=data["model_version"].pk,
                    deployment_ref=data["deployment"],
                    options=services.SignOptions(
                        training_mining=data["training_mining"],
                        watermark=data["watermark"],
                        embed=data["embed"],
                    ),
                )
            except DomainError as exc:
                _form_error(form, exc)
                status = exc.status_code
            else:
                messages.success(
                    request,
                    f"{len(jobs)} file(s) queued for signing. This page shows their progress.",
                )
                return redirect("provenance:job-list")
        else:
            status = 400
    filterset = SigningJobFilterSet(request.GET or None, queryset=jobs_visible_to(request.user))
    if status == 200:
        status = filter_status(filterset)
    page = Paginator(filtered(filterset), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "provenance/job_list.html",
        {
            "form": form,
            "filterset": filterset,
            "page": page,
            # The page links keep the filters.
            "query": query.urlencode(),
            "can_sign": can_sign,
            "can_manage_credentials": can_manage_credentials(request.user),
            "has_pending": any(job.status in ("queued", "running") for job in page),
        },
        status=status,
    )


@login_required
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        job = job_for(request.user, pk)
    except NotFound:
        return render(request, "404.html", status=404)
    manifest = issued_manifest(job)
    training_mining = (job.options or {}).get("training_mining")
    return render(
        request,
        "provenance/job_detail.html",
        {
            "job": job,
            # JSON, as the API and the .c2pa tooling show it (not Python's repr).
            "manifest_json": json.dumps(manifest, indent=2, sort_keys=True) if manifest else "",
            "training_mining": TrainingMining(training_mining).label
            if training_mining in TrainingMining.values
            else training_mining,
        },
    )


@login_required
def job_download(request: HttpRequest, pk: int) -> HttpResponse | FileResponse:
    try:
        job = job_for(request.user, pk)
        return download_response(job, request.GET.get("part", "file"))
    except NotFound:
        return render(request, "404.html", status=404)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("provenance:job-detail", pk=pk)


@login_required
def verify(request: HttpRequest) -> HttpResponse:
    form = VerifyForm()
    result = None
    status = 200
    if request.method == "POST":
        form = VerifyForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                result = services.verify_file(
                    actor=request.user,
                    upload=form.cleaned_data["file"],
                    sidecar=form.cleaned_data.get("manifest"),
                )
            except DomainError as exc:
                _form_error(form, exc)
                status = exc.status_code
        else:
            status = 400
    job = (result or {}).get("job")
    return render(
        request,
        "provenance/verify.html",
        {
            "form": form,
            "result": result,
            # Anyone may verify a file; only who may open the job gets a link to it (404 else).
            "job_link": job is not None
            and jobs_visible_to(request.user).filter(pk=job["id"]).exists(),
        },
        status=status,
    )


@login_required
def credential_list(request: HttpRequest) -> HttpResponse:
    """Admins register signing credentials (checked by the service: chain, C2PA profile, key,
    a real test signature) and see which one is active."""
    if not can_manage_credentials(request.user):
        raise PermissionDenied("Only administrators manage signing credentials.")
    form = CredentialForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                credential = services.credential_register(
                    actor=request.user,
                    name=data["name"].strip(),
                    certificate_chain=data["certificate_chain"],
                    key_reference=data["key_reference"].strip(),
                    trust_anchor=data["trust_anchor"],
                    activate=data["activate"],
                )
            except DomainError as exc:
                _form_error(form, exc)
                status = exc.status_code
            else:
                messages.success(request, f"Credential '{credential.name}' registered.")
                return redirect("provenance:credential-list")
        else:
            status = 400
    return render(
        request,
        "provenance/credentials.html",
        {"form": form, "credentials": credentials()},
        status=status,
    )
