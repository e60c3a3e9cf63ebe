"""The product as its users meet it, in a real browser (issue 7's five journeys, and sign-in).

Journeys that need a feature's pages skip until that feature is merged (``require_routes``
names only the navigation URL names and API paths the issues fix as contracts), then run by
themselves. Their selectors follow the issue texts (visible link, button and label
names, which is also what a screen reader user meets); where a merged page words things
differently, adjust the selector here, not the accessibility of the page.
"""

from __future__ import annotations

import io
import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import create_token_in_the_ui, sign_in, steward_cli
from tests.routes import require_routes

pytestmark = pytest.mark.e2e

# Demo data the feature journeys rely on (seed_demo). Check after merging the features.
DEMO = {
    "eu_region": "eu-west-1",
    "non_eu_region": "us-east-1",
    # A model version waiting in the approval queue; its deployment in the EU with personal
    # data is denied until the version is approved with EU-only conditions.
    "pending_model": "mistral-7b-instruct",
    "model_card_fixture": "tests/registry/fixtures/model_cards",
}


def _nav(page: Any, label: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=label).click()
    page.wait_for_load_state()


# --- foundation: runs now ---------------------------------------------------------------------


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
    row = page.get_by_role("row").filter(has_text="github-actions-deploy")
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
    row = page.get_by_role("row").filter(has_text="github-actions-deploy")
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


# --- journeys that start running when their features are merged -------------------------------


def test_ciso_approves_a_version_with_conditions_and_a_denied_deployment_turns_allowed(
    page: Any, live_server: Any, demo: dict[str, str], screenshot: Any
) -> None:
    require_routes(
        "registry:approval-queue",
        "policy:deployment-list",
        feature="registry and policy",
        api_paths=("/api/v1/policy/check",),
    )
    sign_in(page, "ciso", demo["password"])
    _nav(page, "Deployments")
    denied = page.get_by_role("row").filter(has_text=DEMO["pending_model"]).first
    assert re.search(r"deny|blocked", denied.inner_text(), re.I), denied.inner_text()

    _nav(page, "Approvals")
    page.get_by_role("link", name=re.compile(DEMO["pending_model"], re.I)).first.click()
    # The CISO reads what they approve: licence obligations and risk factors.
    page.get_by_role("heading", name=re.compile("licen[cs]e", re.I)).first.wait_for()
    page.get_by_role("heading", name=re.compile("risk", re.I)).first.wait_for()

    page.get_by_label(re.compile("region", re.I)).first.select_option(label=re.compile("EU", re.I))
    phi = page.get_by_label(re.compile("PHI|health", re.I))
    if phi.count() and phi.first.is_checked():
        phi.first.uncheck()
    expiry = (date.today() + timedelta(days=90)).isoformat()
    page.get_by_label(re.compile("expir", re.I)).first.fill(expiry)
    page.get_by_role("button", name=re.compile("^approve", re.I)).click()
    page.get_by_text(re.compile("approved", re.I)).first.wait_for()

    _nav(page, "Deployments")
    allowed = page.get_by_role("row").filter(has_text=DEMO["pending_model"]).first
    assert re.search(r"allow|active", allowed.inner_text(), re.I), allowed.inner_text()
    screenshot("ciso-approval")


def test_model_owner_imports_a_card_submits_and_cannot_approve_their_own_version(
    page: Any, live_server: Any, demo: dict[str, str], screenshot: Any
) -> None:
    require_routes(
        "registry:model-list", feature="registry", api_paths=("/api/v1/models/import-card/",)
    )
    cards = sorted(Path(DEMO["model_card_fixture"]).glob("*.md"))
    assert cards, f"no model card fixtures under {DEMO['model_card_fixture']}"
    sign_in(page, "owner", demo["password"])
    _nav(page, "Models")
    page.get_by_role("link", name=re.compile("import", re.I)).first.click()
    page.get_by_label(re.compile("model card|README", re.I)).first.set_input_files(str(cards[0]))
    page.get_by_role("button", name=re.compile("import", re.I)).click()
    page.get_by_role("button", name=re.compile("submit", re.I)).first.click()
    page.get_by_text(re.compile("submitted", re.I)).first.wait_for()

    # Separation of duties: no approve button for the requester...
    assert page.get_by_role("button", name=re.compile("^approve", re.I)).count() == 0
    # ...and a forged approval POST is refused by the service.
    approve_forms = page.locator("form[action*='approve']")
    target = page.url.rstrip("/") + "/approve/"
    if approve_forms.count():
        target = approve_forms.first.get_attribute("action")
    csrf = page.locator("input[name=csrfmiddlewaretoken]").first.input_value()
    forged = page.request.post(
        target, form={"csrfmiddlewaretoken": csrf}, headers={"Referer": page.url}
    )
    assert forged.status in (403, 404, 405), forged.status
    page.reload()
    assert not page.get_by_text(re.compile(r"\bapproved\b", re.I)).count()
    screenshot("model-owner-submission")


def test_platform_engineer_checks_deployments_from_ci_with_the_cli(
    page: Any, live_server: Any, demo: dict[str, str], screenshot: Any
) -> None:
    require_routes(feature="policy", api_paths=("/api/v1/policy/check",))
    sign_in(page, "owner", demo["password"])
    secret = create_token_in_the_ui(page, "ci-policy-check", ["policy:check"])
    args = ["check", "--model", DEMO["pending_model"], "--env", "prod", "--data", "pii"]

    outside = steward_cli(
        *args, "--region", DEMO["non_eu_region"], url=live_server.url, token=secret
    )
    assert outside.returncode == 1, outside.stdout + outside.stderr
    assert outside.stdout.startswith("DENY")
    inside = steward_cli(*args, "--region", DEMO["eu_region"], url=live_server.url, token=secret)
    assert inside.returncode == 0, inside.stdout + inside.stderr
    assert inside.stdout.startswith("ALLOW")
    screenshot("platform-engineer-check")


def test_compliance_exports_the_month_and_the_offline_verifier_accepts_the_bundle(
    page: Any,
    live_server: Any,
    demo: dict[str, str],
    screenshot: Any,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    require_routes("audit:event-list", feature="audit", api_paths=("/api/v1/audit/exports/",))
    request.getfixturevalue("celery_worker_process")  # exports run as Celery jobs
    sign_in(page, "auditor", demo["password"])
    _nav(page, "Audit")
    today = date.today()
    page.get_by_label(re.compile("from|since|start", re.I)).first.fill(
        today.replace(day=1).isoformat()
    )
    page.get_by_label(re.compile("to|until|end", re.I)).first.fill(today.isoformat())
    page.get_by_role("button", name=re.compile("filter|apply", re.I)).first.click()
    assert page.get_by_role("row").count() > 1

    downloads = {}
    for fmt in ("PDF", "bundle"):
        page.get_by_label(re.compile("format", re.I)).first.select_option(
            label=re.compile(fmt, re.I)
        )
        page.get_by_role("button", name=re.compile("export", re.I)).first.click()
        link = page.get_by_role("link", name=re.compile("download", re.I)).first
        link.wait_for(timeout=60_000)
        with page.expect_download() as info:
            link.click()
        path = tmp_path / info.value.suggested_filename
        info.value.save_as(path)
        downloads[fmt] = path
    assert downloads["PDF"].read_bytes().startswith(b"%PDF")

    key = tmp_path / "audit-public.pem"
    key.write_bytes(page.request.get("/api/v1/audit/public-key/").body())
    result = steward_cli(
        "verify-export", str(downloads["bundle"]), "--key", str(key), url=live_server.url, token="-"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    screenshot("compliance-export")


def test_creative_team_signs_an_image_and_verify_finds_it_even_after_reencoding(
    page: Any,
    live_server: Any,
    demo: dict[str, str],
    screenshot: Any,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    require_routes(
        "provenance:job-list", feature="provenance", api_paths=("/api/v1/provenance/sign/",)
    )
    request.getfixturevalue("celery_worker_process")  # signing runs on a real worker
    from PIL import Image

    source = tmp_path / "campaign.png"
    image = Image.effect_mandelbrot((1024, 768), (-2.2, -1.2, 1.0, 1.2), 120).convert("RGB")
    image.save(source)

    sign_in(page, "owner", demo["password"])
    _nav(page, "Provenance")
    page.get_by_role("link", name=re.compile("sign", re.I)).first.click()
    page.get_by_label(re.compile("file|image|asset", re.I)).first.set_input_files(str(source))
    page.get_by_role("button", name=re.compile("sign", re.I)).click()
    link = page.get_by_role("link", name=re.compile("download", re.I)).first
    link.wait_for(timeout=90_000)
    with page.expect_download() as info:
        link.click()
    signed = tmp_path / "signed.png"
    info.value.save_as(signed)

    def verify(path: Path) -> str:
        _nav(page, "Provenance")
        page.get_by_role("link", name=re.compile("verify", re.I)).first.click()
        page.get_by_label(re.compile("file", re.I)).first.set_input_files(str(path))
        page.get_by_role("button", name=re.compile("verify", re.I)).click()
        page.wait_for_load_state()
        return str(page.locator("main").inner_text())

    report = verify(signed)
    assert re.search(r"manifest", report, re.I) and re.search(r"model", report, re.I), report

    # Strip every byte of metadata: re-encode the pixels alone as JPEG.
    stripped = tmp_path / "reencoded.jpg"
    buffer = io.BytesIO()
    Image.open(signed).convert("RGB").save(buffer, "JPEG", quality=85)
    stripped.write_bytes(buffer.getvalue())
    report = verify(stripped)
    assert re.search(r"watermark", report, re.I) and re.search(r"job", report, re.I), report
    screenshot("creative-verify")
