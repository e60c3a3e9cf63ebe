"""Security properties checked on every run: response headers, and no secrets in git.

(``manage.py check --deploy`` with production settings: tests/config/test_settings_env.py;
bandit and pip-audit: ``make security``.)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_SECRET = "s" * 20 + "-a-production-secret-for-the-header-test-0123456789"

pytestmark = pytest.mark.django_db

# --- headers --------------------------------------------------------------------------------


def _csp(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.strip() for part in policy.split(";") if part.strip()}


@pytest.mark.parametrize("path", ["/login/", "/api/v1/me/", "/readyz", "/no-such-page/"])
def test_every_response_carries_the_security_headers(client: Client, path: str) -> None:
    response = client.get(path)
    csp = _csp(response)
    assert csp["default-src"] == "default-src 'self'"
    assert csp["frame-ancestors"] == "frame-ancestors 'none'"
    assert csp["object-src"] == "object-src 'none'"
    # Pages never run inline code: no inline scripts or styles anywhere but the API docs.
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_pages_carry_no_inline_script_or_style(client: Client) -> None:
    html = client.get("/login/").content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert "style=" not in html and "<style" not in html


def test_hsts_and_secure_cookies_are_on_with_tls_in_production(tmp_path: Path) -> None:
    """Production settings (DEBUG off, TLS on by default), in a fresh process."""
    code = (
        "import django; django.setup(); from django.test import Client; "
        # Pages need collected static files (manifest storage); the API and probes do not.
        "c = Client(); r = c.get('/healthz', secure=True); "
        "print(r.status_code); print(r.get('Strict-Transport-Security', '')); "
        "p = c.get('/api/v1/me/'); print(p.status_code); print(p.get('Location', '')); "
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY)"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "USE_TLS"}}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="0",
        SECRET_KEY=PRODUCTION_SECRET,
        ALLOWED_HOSTS="testserver",
        STEWARD_VAR_DIR=str(tmp_path),
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    secure_status, hsts, plain_status, location, cookies = result.stdout.strip().split("\n")
    assert secure_status == "200"
    assert hsts == "max-age=31536000; includeSubDomains; preload"
    # Plain HTTP is redirected to HTTPS (health probes excepted, see SECURE_REDIRECT_EXEMPT).
    assert plain_status == "301" and location.startswith("https://")
    assert cookies == "True True True"


def test_no_hsts_without_tls(client: Client) -> None:
    """HSTS over plain HTTP would be ignored by browsers, and pins a host that has no TLS."""
    assert "Strict-Transport-Security" not in client.get("/login/")


# --- secrets in the repository ----------------------------------------------------------------

# Written so that this file does not match its own patterns.
SECRET_PATTERNS = {
    "private key": re.compile("-----BEGIN" + r"( [A-Z0-9]+)* PRIVATE KEY" + "-----"),
    "Steward API token": re.compile(r"\bstw_[0-9a-f]{12}_[A-Za-z0-9_\-]{32,}"),
    "AWS access key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[baprs]-[A-Za-z0-9-]{10,}"),
}
KEY_FILE_SUFFIXES = (".pem", ".key", ".p12", ".pfx", ".jks")


def find_secrets(name: str, text: str) -> list[str]:
    return [
        f"{name}: {label}" for label, pattern in SECRET_PATTERNS.items() if pattern.search(text)
    ]


def test_the_secret_scanner_finds_what_it_looks_for() -> None:
    key = "-----BEGIN" + " EC PRIVATE KEY" + "-----\nMHcCAQEE...\n"
    token = "stw_" + "0123456789ab" + "_" + "A" * 43
    assert find_secrets("k", key) == ["k: private key"]
    assert find_secrets("t", f"STEWARD_TOKEN={token}") == ["t: Steward API token"]
    assert find_secrets("ok", "stw_... and BEGIN CERTIFICATE") == []


def test_no_private_key_or_token_is_tracked_in_git() -> None:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    files = [name for name in listed.decode().split("\0") if name]
    assert files, "git ls-files listed nothing"
    found = [name for name in files if name.lower().endswith(KEY_FILE_SUFFIXES)]
    for name in files:
        path = ROOT / name
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue  # binary
        found.extend(find_secrets(name, data.decode("utf-8", errors="replace")))
    assert not found, "secrets or key files tracked in git:\n" + "\n".join(found)
