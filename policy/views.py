"""HTML views: thin adapters over the same services, selectors and FilterSets as the API."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from config.exceptions import DomainError, NotFound, raise_if_refused
from config.filters import filter_status, filtered
from config.ids import parse_id
from policy import selectors, services
from policy.diff import version_diff
from policy.filtersets import DecisionFilterSet, DeploymentFilterSet, WaiverFilterSet
from policy.forms import (
    DeploymentForm,
    ParamsForm,
    PolicyModeForm,
    RuleForm,
    WaiverForm,
    apply_domain_error,
)
from policy.models import Deployment
from policy.roles import (
    can_create_deployments,
    can_decide_waivers,
    can_edit_policies,
    can_request_waivers,
)
from policy.services.deployments import can_edit_deployment


def _get(getter: Any, *args: Any) -> Any:
    from django.http import Http404

    try:
        return getter(*args)
    except NotFound as exc:
        raise Http404(exc.message) from None


def _page(request: HttpRequest, qs: Any, size: int = 50) -> Any:
    return Paginator(qs, size).get_page(request.GET.get("page"))


def _refuse_unless(allowed: bool, reason: str) -> None:
    """A form page is refused as its submit would be (the same 403 page and reason): opening
    a form one may not submit only to be refused at the end wastes the user's work."""
    if not allowed:
        raise PermissionDenied(reason)


POLICY_EDITORS_ONLY = "Only approvers and admins can edit policies."


def _version_url(version: Any) -> str:
    return reverse("policy:version-detail", args=[version.policy.slug, version.number])


@login_required
def policy_list(request: HttpRequest) -> HttpResponse:
    policies = selectors.policies_visible_to(request.user).prefetch_related("active_version__rules")
    return render(request, "policy/policy_list.html", {"policies": policies})


@login_required
def policy_detail(request: HttpRequest, slug: str) -> HttpResponse:
    policy = _get(selectors.policy_get, request.user, slug)
    form = PolicyModeForm(request.POST or None, initial={"mode": policy.mode})
    if request.method == "POST" and form.is_valid():
        try:
            services.policy_update(
                actor=request.user,  # type: ignore[arg-type]
                policy=policy,
                mode=form.cleaned_data["mode"],
            )
        except DomainError as exc:
            raise_if_refused(exc)
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{policy.name} now runs in {policy.mode} mode.")
        return redirect("policy:policy-detail", slug)
    versions = policy.versions.select_related("created_by", "published_by")
    return render(
        request,
        "policy/policy_detail.html",
        {
            "policy": policy,
            "versions": versions,
            "active": policy.active_version,
            "rules": policy.active_version.rules.all() if policy.active_version else [],
            "form": form,
            "can_edit": can_edit_policies(request.user),
        },
    )


@login_required
@require_POST
def version_new(request: HttpRequest, slug: str) -> HttpResponseRedirect:
    policy = _get(selectors.policy_get, request.user, slug)
    source = None
    if request.POST.get("from"):
        number = parse_id(request.POST["from"])
        if number is None:
            messages.error(request, "'from' must be a version number.")
            return redirect("policy:policy-detail", slug)
        source = _get(selectors.version_get, request.user, slug, number)
    try:
        version = services.version_create_draft(
            actor=request.user,  # type: ignore[arg-type]
            policy=policy,
            from_version=source,
        )
    except DomainError as exc:
        raise_if_refused(exc)
        messages.error(request, exc.message)
        return redirect("policy:policy-detail", slug)
    messages.success(request, f"Draft version {version.number} created.")
    return redirect(_version_url(version))


@login_required
def version_detail(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    version = _get(selectors.version_get, request.user, slug, number)
    return render(
        request,
        "policy/version_detail.html",
        {
            "version": version,
            "policy": version.policy,
            "rules": version.rules.all(),
            "params_json": json.dumps(version.params, indent=2, sort_keys=True),
            "can_edit": can_edit_policies(request.user) and not version.is_published,
            "can_author": can_edit_policies(request.user),
            "other_versions": version.policy.versions.exclude(pk=version.pk),
        },
    )


@login_required
def version_params(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    version = _get(selectors.version_get, request.user, slug, number)
    _refuse_unless(can_edit_policies(request.user), POLICY_EDITORS_ONLY)
    initial = {
        "params": json.dumps(version.params, indent=2, sort_keys=True),
        "notes": version.notes,
    }
    form = ParamsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.version_update(
                actor=request.user,  # type: ignore[arg-type]
                version=version,
                params=form.cleaned_data["params"],
                notes=form.cleaned_data["notes"],
            )
        except DomainError as exc:
            raise_if_refused(exc)
            apply_domain_error(form, exc)
        else:
            messages.success(request, "Parameters saved.")
            return redirect(_version_url(version))
    return render(
        request,
        "policy/params_form.html",
        {"form": form, "version": version},
        status=400 if form.errors else 200,
    )


@login_required
def rule_edit(
    request: HttpRequest, slug: str, number: int, rule_id: str | None = None
) -> HttpResponse:
    """The rule editor: the server compiles the CEL and reports errors with their position."""
    version = _get(selectors.version_get, request.user, slug, number)
    rule = _get(selectors.rule_get, request.user, slug, number, rule_id) if rule_id else None
    _refuse_unless(can_edit_policies(request.user), POLICY_EDITORS_ONLY)
    initial = (
        {f: getattr(rule, f) for f in ("rule_id", "title", "expression", "message", "severity")}
        if rule
        else {"severity": "deny"}
    )
    form = RuleForm(request.POST or None, initial=initial)
    if rule:
        form.fields["rule_id"].disabled = True
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if rule:
                services.rule_update(
                    actor=request.user,  # type: ignore[arg-type]
                    rule=rule,
                    title=data["title"],
                    expression=data["expression"],
                    message=data["message"],
                    severity=data["severity"],
                )
            else:
                services.rule_create(actor=request.user, version=version, **data)  # type: ignore[arg-type]
        except DomainError as exc:
            raise_if_refused(exc)
            apply_domain_error(form, exc)
        else:
            messages.success(request, f"Rule {data.get('rule_id') or rule_id} saved.")
            return redirect(_version_url(version))
    return render(
        request,
        "policy/rule_form.html",
        {"form": form, "version": version, "rule": rule},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def rule_delete(request: HttpRequest, slug: str, number: int, rule_id: str) -> HttpResponseRedirect:
    rule = _get(selectors.rule_get, request.user, slug, number, rule_id)
    try:
        services.rule_delete(actor=request.user, rule=rule)  # type: ignore[arg-type]
    except DomainError as exc:
        raise_if_refused(exc)
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Rule {rule_id} deleted.")
    return redirect("policy:version-detail", slug, number)


@login_required
@require_POST
def version_publish(request: HttpRequest, slug: str, number: int) -> HttpResponseRedirect:
    version = _get(selectors.version_get, request.user, slug, number)
    try:
        services.version_publish(actor=request.user, version=version)  # type: ignore[arg-type]
    except DomainError as exc:
        raise_if_refused(exc)
        messages.error(request, exc.message)
        return redirect(_version_url(version))
    messages.success(
        request, f"Version {number} is now active; deployments are being re-evaluated."
    )
    return redirect("policy:policy-detail", slug)


@login_required
@require_POST
def version_simulate(request: HttpRequest, slug: str, number: int) -> HttpResponse:
    version = _get(selectors.version_get, request.user, slug, number)
    try:
        result = services.simulate_version(actor=request.user, version=version)  # type: ignore[arg-type]
    except DomainError as exc:
        raise_if_refused(exc)
        messages.error(request, exc.message)
        return redirect(_version_url(version))
    return render(request, "policy/simulation.html", {"version": version, "result": result})


@login_required
def version_diff_view(request: HttpRequest, slug: str) -> HttpResponse:
    policy = _get(selectors.policy_get, request.user, slug)
    numbers = list(policy.versions.values_list("number", flat=True))
    if not numbers:
        from django.http import Http404

        raise Http404("This policy has no versions yet.")
    try:
        to = int(request.GET.get("to") or max(numbers))
        start = int(request.GET.get("from") or max(min(numbers), to - 1))
    except ValueError:
        to, start = max(numbers), max(min(numbers), max(numbers) - 1)
    if start == to and "from" not in request.GET:
        # The first version has no predecessor ("Compare with other versions" on v1):
        # compare it with its successor rather than with itself.
        later = [n for n in numbers if n > to]
        if later:
            start, to = to, min(later)
    new = _get(selectors.version_get, request.user, slug, to)
    old = _get(selectors.version_get, request.user, slug, start)
    return render(
        request,
        "policy/diff.html",
        {"policy": policy, "diff": version_diff(old, new), "numbers": numbers},
    )


@login_required
def deployment_list(request: HttpRequest) -> HttpResponse:
    filterset = DeploymentFilterSet(
        request.GET or None, queryset=selectors.deployments_visible_to(request.user)
    )
    return render(
        request,
        "policy/deployment_list.html",
        {
            "filter": filterset,
            "page": _page(request, filtered(filterset)),
            "can_create": can_create_deployments(request.user),
        },
        status=filter_status(filterset),
    )


@login_required
def deployment_form(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    deployment = _get(selectors.deployment_get, request.user, slug) if slug else None
    if deployment is None:
        _refuse_unless(
            can_create_deployments(request.user),
            "Only model owners and admins can register deployments.",
        )
    else:
        _refuse_unless(
            can_edit_deployment(request.user, deployment),  # type: ignore[arg-type]
            "You cannot edit this deployment.",
        )
    initial: dict[str, Any] = {}
    if deployment:
        initial = {
            f: getattr(deployment, f)
            for f in (
                "slug", "name", "model_version", "environment", "region", "hosting", "use_case",
                "data_classes", "data_subject_region", "expected_mau", "commercial",
            )
        }  # fmt: skip
    form = DeploymentForm(
        request.POST or None,
        initial=initial,
        teams=None if deployment else selectors.teams_assignable_by(request.user),
    )
    if deployment:
        form.fields["slug"].disabled = True
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            if deployment:
                data.pop("slug")
                deployment = services.deployment_update(
                    actor=request.user,  # type: ignore[arg-type]
                    deployment=deployment,
                    **data,
                )
            else:
                deployment = services.deployment_create(
                    actor=request.user,  # type: ignore[arg-type]
                    **data,
                )
        except DomainError as exc:
            raise_if_refused(exc)
            apply_domain_error(form, exc)
        else:
            verdict = "blocked" if deployment.status == "blocked" else "active"
            messages.success(request, f"Deployment {deployment.slug} saved: {verdict}.")
            return redirect("policy:deployment-detail", deployment.slug)
    return render(
        request,
        "policy/deployment_form.html",
        {"form": form, "deployment": deployment},
        status=400 if form.errors else 200,
    )


@login_required
def deployment_detail(request: HttpRequest, slug: str) -> HttpResponse:
    deployment: Deployment = _get(selectors.deployment_get, request.user, slug)
    return render(
        request,
        "policy/deployment_detail.html",
        {
            "deployment": deployment,
            "decision": deployment.last_decision,
            "decisions": deployment.decisions.all()[:10],
            "waivers": deployment.waivers.select_related("policy", "requested_by"),
            "can_edit": can_edit_deployment(request.user, deployment),  # type: ignore[arg-type]
        },
    )


@login_required
@require_POST
def deployment_evaluate(request: HttpRequest, slug: str) -> HttpResponseRedirect:
    deployment = _get(selectors.deployment_get, request.user, slug)
    # As in the API: re-evaluating writes (a decision, maybe a block), so only who may edit.
    if not can_edit_deployment(request.user, deployment):  # type: ignore[arg-type]
        raise PermissionDenied("You cannot re-evaluate this deployment.")
    decision = services.deployment_evaluate(actor=request.user, deployment=deployment, source="web")
    messages.info(request, f"Evaluated: {decision.verdict} ({decision.decision_id}).")
    return redirect("policy:deployment-detail", slug)


@login_required
def waiver_list(request: HttpRequest) -> HttpResponse:
    filterset = WaiverFilterSet(
        request.GET or None, queryset=selectors.waivers_visible_to(request.user)
    )
    form = WaiverForm(request.POST or None, initial={"deployment": request.GET.get("deployment")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            deployment = selectors.deployment_get(request.user, data["deployment"])
            services.waiver_request(
                actor=request.user,  # type: ignore[arg-type]
                policy=data["policy"],
                rule_id=data["rule_id"],
                deployment=deployment,
                justification=data["justification"],
                expires_at=data["expires_at"],
            )
        except DomainError as exc:
            raise_if_refused(exc)
            apply_domain_error(form, exc)
        else:
            messages.success(request, "Waiver requested; another approver must decide it.")
            return redirect("policy:waiver-list")
    return render(
        request,
        "policy/waiver_list.html",
        {
            "filter": filterset,
            "page": _page(request, filtered(filterset)),
            "form": form,
            "can_request": can_request_waivers(request.user),
            "can_decide": can_decide_waivers(request.user),
        },
        status=400 if form.errors else filter_status(filterset),
    )


WAIVER_ACTION_DONE = {"approve": "approved", "reject": "rejected", "revoke": "revoked"}


@login_required
@require_POST
def waiver_action(request: HttpRequest, pk: int, action: str) -> HttpResponseRedirect:
    waiver = _get(selectors.waiver_get, request.user, pk)
    comment = request.POST.get("comment", "")[:2000]
    try:
        if action == "revoke":
            services.waiver_revoke(actor=request.user, waiver=waiver, comment=comment)  # type: ignore[arg-type]
        elif action in ("approve", "reject"):
            services.waiver_decide(
                actor=request.user,  # type: ignore[arg-type]
                waiver=waiver,
                approve=action == "approve",
                comment=comment,
            )
        else:
            messages.error(request, "Unknown action.")
            return redirect("policy:waiver-list")
    except DomainError as exc:
        raise_if_refused(exc)
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Waiver {pk} {WAIVER_ACTION_DONE[action]}.")
    return redirect("policy:waiver-list")


@login_required
def decision_list(request: HttpRequest) -> HttpResponse:
    filterset = DecisionFilterSet(
        request.GET or None, queryset=selectors.decisions_visible_to(request.user)
    )
    return render(
        request,
        "policy/decision_list.html",
        {"filter": filterset, "page": _page(request, filtered(filterset))},
        status=filter_status(filterset),
    )


@login_required
def decision_detail(request: HttpRequest, decision_id: str) -> HttpResponse:
    decision = _get(selectors.decision_get, request.user, decision_id)
    return render(
        request,
        "policy/decision_detail.html",
        {"decision": decision, "input_json": json.dumps(decision.input, indent=2, sort_keys=True)},
    )
