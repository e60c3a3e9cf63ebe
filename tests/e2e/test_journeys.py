"""The product as its users meet it, in a real browser (issue 7's five journeys, and sign-in).

Selectors are what a person (and a screen reader) meets: visible link, button, label and
region names. A journey that needs a worker (re-evaluation, exports, signing) runs a real
Celery worker process and waits for the page to show the result, as the user would.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import wait_for
from tests.e2e.conftest import ROOT, create_token_in_the_ui, sign_in, steward_cli

pytestmark = pytest.mark.e2e

# Demo data (seed_demo) the journeys rely on.
DEMO = {
    "eu_region": "eu-west-1",
    "non_eu_region": "us-east-1",
    # Submitted by the research team and waiting in the approval queue; the deployment
    # "knowledge-search" (westeurope, internal data) is blocked until it is approved.
    "pending_model": "Mixtral 8x7B Instruct",
    "pending_deployment": "knowledge-search",
    # Approved for the EU without health data: the demo support chatbots run it.
    "ci_model": "llama-3-1-8b-instruct",
    "ci_use_case": "customer-support-chatbot",
    # A real Hugging Face model card with model-index results (MIT licence).
    "model_card": ROOT / "tests/registry/fixtures/zephyr-7b-beta.README.md",
    "model_card_repo": "HuggingFaceH4/zephyr-7b-beta",
    # An image model approved for internal data (the demo's marketing images).
    "image_model": "Gemini 2.0 Flash 001",
}


def _nav(page: Any, label: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=label).click()
    page.wait_for_load_state()


def _row(page: Any, text: str) -> Any:
    return page.get_by_role("row").filter(has_text=text).first


def _deployment_row(page: Any, slug: str) -> Any:
    link = page.get_by_role("link", name=slug, exact=True)
    return page.get_by_role("row").filter(has=link)


# --- sign-in and tokens ---------------------------------------------------------------------


def test_platform_engineer_creates_a_token_in_the_ui_and_uses_it_with_the_cli(
    page: Any, live_server: Any, demo: dict[str, str], screenshot: Any
) -> None:
    sign_in(page, "owner", demo["password"])
    page.get_by_role("heading", name="Dashboard").wait_for()
    assert page.get_by_role("link", name="Sign out").count() == 0  # it is a button (POST)
    secret = create_token_in_the_ui(
        page, "github-actions-deploy", ["registry:read", "policy:check"]
    )

    # The secret is shown exactly once; the list shows only its prefix from now on.
    _nav(page, "API tokens")
    assert secret not in page.content()
    row = _row(page, "github-actions-deploy")
    assert "active" in row.inner_text()
    assert secret[:16] in row.inner_text() or secret.split("_")[1] in row.inner_text()

    result = steward_cli("whoami", "--json", url=live_server.url, token=secret)
    assert result.returncode == 0, result.stderr
    me = json.loads(result.stdout)
    assert me["username"] == "owner"
    assert me["roles"] == ["model_owner"]
    assert sorted(me["token_scopes"]) == ["policy:check", "registry:read"]

    # The token's use is visible in the UI ("last used" is no longer empty).
    _nav(page, "API tokens")
    row = _row(page, "github-actions-deploy")
    assert "—" not in row.locator("td").nth(5).inner_text()
    screenshot("platform-engineer-token")
    assert not page.console_errors, page.console_errors


def test_repeated_failed_sign_ins_lock_the_account_out(
    page: Any, demo: dict[str, str], screenshot: Any, settings: Any
) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(page, "viewer", "not-the-password")
        page.get_by_role("alert").filter(has_text="correct username and password").wait_for()
    sign_in(page, "viewer", "not-the-password")
    page.get_by_role("heading", name="Too many failed sign-ins").wait_for()

    # Now even the right password is refused, and no session is opened.
    page.goto("/login/")
    page.get_by_label("Username").fill("viewer")
    page.get_by_label("Password").fill(demo["password"])
    with page.expect_response(
        lambda r: r.url.endswith("/login/") and r.request.method == "POST"
    ) as info:
        page.get_by_role("button", name="Sign in").click()
    response = info.value
    assert response.status == 429
    page.get_by_role("heading", name="Too many failed sign-ins").wait_for()
    screenshot("failed-login-lockout")
    page.goto("/")
    assert page.url.endswith("/login/?next=/")


# --- 1. CISO ----------------------------------------------------------------------------------


def test_ciso_approves_a_version_with_conditions_and_a_denied_deployment_turns_allowed(
    page: Any,
    live_server: Any,
    demo: dict[str, str],
    screenshot: Any,
    request: pytest.FixtureRequest,
) -> None:
    request.getfixturevalue("celery_worker_process")  # the approval re-evaluates deployments
    sign_in(page, "ciso", demo["password"])
    _nav(page, "Deployments")
    assert "blocked" in _deployment_row(page, DEMO["pending_deployment"]).inner_text()

    _nav(page, "Approvals")
    card = page.get_by_role("region", name=re.compile(f"^{DEMO['pending_model']}"))
    # The CISO reads what they approve, where they decide: obligations and risk factors.
    obligations = card.get_by_role("region", name="Licence obligations")
    assert "Commercial use is allowed" in obligations.inner_text()
    risk = card.get_by_role("region", name="Risk factors")
    assert "openness tier" in risk.inner_text() and risk.get_by_role("row").count() > 2

    form = card.get_by_role("form", name=re.compile("^Approve"))
    form.get_by_role("group", name=re.compile("^Jurisdictions")).get_by_label("EU / EEA").check()
    data = form.get_by_role("group", name="Data it may process")
    for label in ("Public", "Internal", "Confidential", "Personal data (PII)"):
        data.get_by_label(label, exact=True).check()
    assert not data.get_by_label(re.compile("PHI")).is_checked()  # no health data
    expiry = datetime.now(UTC) + timedelta(days=90)
    form.get_by_label(re.compile("^Expires at")).fill(expiry.strftime("%Y-%m-%dT%H:%M"))
    form.get_by_label("Comment").fill("EU only, no health data; review in 90 days.")
    form.get_by_role("button", name="Approve").click()
    page.get_by_text("Deployments that use it are being re-evaluated").wait_for()

    conditions = _row(page, DEMO["pending_model"]).inner_text()  # in "Recent decisions"
    assert "approved" in conditions and "jurisdictions: EU" in conditions, conditions
    assert "pii" in conditions and "phi" not in conditions, conditions

    # The deployment denied for want of an approval turns allowed once the worker has
    # re-evaluated it: the CISO reloads the list until it does.
    _nav(page, "Deployments")

    def allowed() -> bool:
        page.reload()
        return "active" in _deployment_row(page, DEMO["pending_deployment"]).inner_text()

    wait_for(allowed, timeout=30, interval=0.5)
    page.get_by_role("link", name=DEMO["pending_deployment"], exact=True).click()
    last = page.get_by_role("region", name="Last decision")
    assert "allow" in last.inner_text(), last.inner_text()
    screenshot("ciso-approval")
    assert not page.console_errors, page.console_errors


# --- 2. Model owner ---------------------------------------------------------------------------


def test_model_owner_imports_a_card_submits_and_cannot_approve_their_own_version(
    page: Any, live_server: Any, demo: dict[str, str], screenshot: Any
) -> None:
    from registry.models import AIModel, VersionStatus

    sign_in(page, "owner", demo["password"])
    _nav(page, "Models")
    page.get_by_role("link", name="Import a model card").click()
    page.get_by_label("upload README.md").set_input_files(str(DEMO["model_card"]))
    page.get_by_label("Hugging Face repository").fill(DEMO["model_card_repo"])
    page.get_by_role("button", name="Preview").click()
    preview = page.get_by_role("region", name="What the card says")
    assert "MIT" in preview.inner_text()
    assert preview.get_by_role("row").count() > 1  # the card's model-index results
    page.get_by_role("button", name="Create model and draft version").click()
    page.get_by_text("imported as a draft").wait_for()
    version_pk = int(
        re.search(  # type: ignore[union-attr]
            r"/model-versions/(\d+)/",
            page.get_by_role("link", name="AI-BOM (CycloneDX)").get_attribute("href") or "",
        ).group(1)
    )

    page.get_by_label("Justification").fill("Support-ticket summaries, EU only.")
    page.get_by_role("button", name="Submit for approval").click()
    page.get_by_text("submitted for approval").wait_for()
    page.get_by_text("Waiting for an approver's decision").wait_for()

    # Separation of duties: no approve button for the requester, here or in the queue...
    assert page.get_by_role("button", name=re.compile("^approve", re.I)).count() == 0
    _nav(page, "Approvals")
    mine = page.get_by_role("region", name=re.compile("^zephyr", re.I))
    mine.get_by_text("You requested this approval").wait_for()
    assert page.get_by_role("button", name=re.compile("^approve", re.I)).count() == 0

    # ...and a forged approval POST (valid session and CSRF token) is refused.
    csrf = page.locator("input[name=csrfmiddlewaretoken]").first.input_value()
    forged = page.request.post(
        f"/model-versions/{version_pk}/approve/",
        form={"csrfmiddlewaretoken": csrf, "jurisdictions": "EU"},
        headers={"Referer": page.url},
    )
    assert forged.status == 403, forged.status
    version = AIModel.objects.get(hf_repo_id=DEMO["model_card_repo"]).versions.get()
    assert version.pk == version_pk and version.status == VersionStatus.SUBMITTED
    assert version.current_approval is None

    page.goto(f"/models/{version.model.slug}/")
    assert page.get_by_role("heading", name=re.compile(r"pending")).count() == 1
    screenshot("model-owner-submission")
    assert not page.console_errors, page.console_errors


# --- 3. Platform engineer ---------------------------------------------------------------------


def test_platform_engineer_checks_deployments_from_ci_with_the_cli(
    page: Any, live_server: Any, demo: dict[str, str], screenshot: Any
) -> None:
    sign_in(page, "owner", demo["password"])
    secret = create_token_in_the_ui(page, "ci-policy-check", ["policy:check"])
    args = ["check", "--model", DEMO["ci_model"], "--env", "prod", "--data", "pii"]
    args += ["--use-case", DEMO["ci_use_case"]]

    outside = steward_cli(
        *args, "--region", DEMO["non_eu_region"], url=live_server.url, token=secret
    )
    assert outside.returncode == 1, outside.stdout + outside.stderr
    assert outside.stdout.startswith("DENY")
    assert "personal-data-eu-residency" in outside.stdout
    inside = steward_cli(*args, "--region", DEMO["eu_region"], url=live_server.url, token=secret)
    assert inside.returncode == 0, inside.stdout + inside.stderr
    assert inside.stdout.startswith("ALLOW")

    # Both decisions are in the decision log, as the engineer's token made them.
    _nav(page, "Deployments")
    page.get_by_role("link", name="Decision log").click()
    for result, verdict in ((outside, "deny"), (inside, "allow")):
        decision_id = result.stdout.split()[2]
        row = _row(page, decision_id[:16])
        assert verdict in row.inner_text() and "owner" in row.inner_text(), row.inner_text()
    screenshot("platform-engineer-check")
    assert not page.console_errors, page.console_errors


# --- 4. Compliance ----------------------------------------------------------------------------


def test_compliance_exports_the_month_and_the_offline_verifier_accepts_the_bundle(
    page: Any,
    live_server: Any,
    demo: dict[str, str],
    screenshot: Any,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    request.getfixturevalue("celery_worker_process")  # exports run as Celery jobs
    sign_in(page, "auditor", demo["password"])
    _nav(page, "Audit")
    first = date.today().replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    page.get_by_label("From (time)").fill(first.isoformat())
    page.get_by_label("Before (time)").fill(following.isoformat())
    page.get_by_role("button", name="Filter", exact=True).click()
    times = page.locator("tbody tr td:nth-child(2)").all_inner_texts()
    assert times and all(t.startswith(first.strftime("%Y-%m-")) for t in times), times[:3]
    matched = int(page.get_by_text(re.compile(r"^\d+ events? match")).inner_text().split()[0])

    # The trail's filters carry over to the export form.
    page.get_by_role("link", name="Export these events").click()
    assert page.get_by_label("From (time)").input_value() == first.isoformat()
    page.get_by_label("Format").select_option(label="PDF report")
    page.get_by_role("button", name="Export", exact=True).click()
    page.get_by_text("queued").first.wait_for()

    downloads: dict[str, Path] = {}
    for name in ("Download PDF report", "Download signed bundle", "Download public key"):
        link = page.get_by_role("link", name=name).first
        link.wait_for(timeout=60_000)  # the row polls until the worker is done
        with page.expect_download() as info:
            link.click()
        downloads[name] = tmp_path / info.value.suggested_filename
        info.value.save_as(downloads[name])
    assert downloads["Download PDF report"].read_bytes().startswith(b"%PDF")
    bundle = downloads["Download signed bundle"]
    with zipfile.ZipFile(bundle) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["filters"]["occurred_after"] == first.isoformat()
    assert manifest["count"] >= matched  # and the events recorded since, in the same month

    result = steward_cli(
        "verify-export",
        str(bundle),
        "--key",
        str(downloads["Download public key"]),
        url=live_server.url,
        token="-",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"VERIFIED {bundle}" in result.stdout
    screenshot("compliance-export")
    assert not page.console_errors, page.console_errors


# --- 5. Creative team -------------------------------------------------------------------------


def test_creative_team_signs_an_image_and_verify_finds_it_even_after_reencoding(
    page: Any,
    live_server: Any,
    demo: dict[str, str],
    screenshot: Any,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    request.getfixturevalue("celery_worker_process")  # signing runs on a real worker
    from PIL import Image

    source = tmp_path / "campaign.png"
    Image.effect_mandelbrot((320, 240), (-2.2, -1.2, 1.0, 1.2), 60).convert("RGB").save(source)

    sign_in(page, "owner", demo["password"])
    _nav(page, "Provenance")
    form = page.get_by_role("region", name="Sign files")
    form.get_by_label(re.compile("^Files")).set_input_files(str(source))
    form.get_by_label("Model version that generated them").select_option(label=DEMO["image_model"])
    form.get_by_role("button", name="Sign", exact=True).click()
    page.get_by_text("queued for signing").wait_for()
    link = _row(page, "campaign.png").get_by_role("link", name="Download")
    link.wait_for(timeout=60_000)  # the job list polls until the worker has signed it
    with page.expect_download() as info:
        link.click()
    signed = tmp_path / info.value.suggested_filename
    info.value.save_as(signed)

    def verify(path: Path) -> Any:
        _nav(page, "Provenance")
        page.get_by_role("link", name="Verify a file").click()
        page.get_by_label("File to verify").set_input_files(str(path))
        page.get_by_role("button", name="Verify", exact=True).click()
        return page.get_by_role("region", name="Result")

    report = verify(signed).inner_text()
    assert re.search(r"Manifest\s+trusted", report), report
    assert DEMO["image_model"] in report and "found by manifest" in report, report

    # Strip every byte of metadata: re-encode the pixels alone as JPEG.
    stripped = tmp_path / "reencoded.jpg"
    buffer = io.BytesIO()
    Image.open(signed).convert("RGB").save(buffer, "JPEG", quality=85)
    stripped.write_bytes(buffer.getvalue())
    report = verify(stripped).inner_text()
    assert re.search(r"Manifest\s+none", report), report
    assert "Watermark" in report and "found by watermark" in report, report
    assert re.search(r"Signing job #\d+", report) and DEMO["image_model"] in report, report
    screenshot("creative-verify")
    assert not page.console_errors, page.console_errors


# --- Layout -----------------------------------------------------------------------------------


def test_long_rules_and_long_justifications_fit_the_window(
    page: Any, live_server: Any, demo: dict[str, str]
) -> None:
    # A rule's expression is a <pre> in a table cell: unwrapped, it widened the table and the
    # page scrolled sideways (the demo's model-approval v1 was twice the window's width). A
    # ticket URL in a waiver's justification pushed the Approve button out of the window.
    from accounts.models import User
    from policy.models import Deployment, Policy
    from policy.services import waiver_request

    waiver_request(
        actor=User.objects.get(username="owner"),
        policy=Policy.objects.get(slug="eval-gates"),
        rule_id="minimum-eval-scores",
        deployment=Deployment.objects.get(slug=DEMO["pending_deployment"]),
        justification="See https://jira.example.com/browse/SEC-12345?focusedCommentId=98765432"
        "&page=com.atlassian.jira.plugin.system.issuetabpanels%3Acomment-tabpanel",
        expires_at=datetime.now(UTC) + timedelta(days=30),
    )
    sign_in(page, "ciso", demo["password"])
    for url, heading in (("/policies/model-approval/v1/", "Rules"), ("/waivers/", "Waivers")):
        page.goto(url)
        page.get_by_role("heading", name=heading, exact=True).first.wait_for()
        widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1], (url, widths)
    assert not page.console_errors, page.console_errors
