"""Browser journeys: Playwright driving Debian's chromium, headless, against the live server.

``npx playwright install`` cannot download a browser here, so the tests launch the system
chromium (``STEWARD_CHROMIUM``, default /usr/bin/chromium) and skip with the reason when it
is missing; CI (.ci/run) installs it. Each journey saves its final page to
``var/screenshots/<journey>.png`` (CI artefacts).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("STEWARD_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = ROOT / "var" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """One chromium for the package; gone (with Playwright's loop) before other packages run.

    Playwright's sync API keeps an asyncio loop in this thread, and Django refuses ORM calls
    from a thread with a running loop unless told it is deliberate: the ORM calls here are
    the tests' own set-up and teardown, never concurrent with the loop's work. The switch is
    on exactly while the loop exists, not for the whole process: subprocesses of other tests
    (``check --deploy`` refuses it) must not inherit it.
    """
    if not CHROMIUM.exists():
        pytest.skip(
            f"no chromium at {CHROMIUM}: install it (apt-get install chromium) or set "
            "STEWARD_CHROMIUM; CI installs it"
        )
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield instance
            instance.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def demo(transactional_db: None) -> dict[str, str]:
    """The demo organisation (``seed_demo``: users of every role, and each merged app's demo
    data), committed so that the live server sees it. Returns the demo password."""
    call_command("seed_demo", verbosity=0)
    return {"password": settings.STEWARD_DEMO_PASSWORD}


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 860}, accept_downloads=True
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    # A CSP violation or a broken script shows up here, not in the page.
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.console_errors = errors
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def screenshot(page: Any) -> Callable[[str], Path]:
    def take(journey: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{journey}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def sign_in(page: Any, username: str, password: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def steward_cli(*args: str, url: str, token: str) -> subprocess.CompletedProcess[str]:
    """The ``steward`` console script installed in the virtualenv, as CI runs it."""
    script = Path(sys.executable).with_name("steward")
    return subprocess.run(
        [str(script), *args],
        env={**os.environ, "STEWARD_URL": url, "STEWARD_TOKEN": token},
        capture_output=True,
        text=True,
        timeout=60,
    )


def create_token_in_the_ui(page: Any, name: str, scopes: list[str]) -> str:
    """Settings → API tokens → create; returns the secret shown once."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="API tokens").click()
    page.get_by_role("heading", name="API tokens", level=1).wait_for()
    page.get_by_label("Name").fill(name)
    for scope in scopes:
        page.get_by_label(scope, exact=False).first.check()
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("#new-token-value").inner_text().strip()
    assert secret.startswith("stw_"), secret
    return secret
