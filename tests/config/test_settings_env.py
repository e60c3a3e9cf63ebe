"""Settings read from the environment, checked in fresh processes (settings load once)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_SECRET = "p" * 20 + "-a-real-production-secret-key-0123456789-abcdef"


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY", "USE_TLS"}}
    clean.update({"DJANGO_SETTINGS_MODULE": "config.settings", **env})
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_refuses_to_start_without_a_secret_when_debug_is_off(tmp_path):
    result = run_manage("check", DEBUG="0", STEWARD_VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "SECRET_KEY is not set and DEBUG is off" in result.stderr


def test_it_refuses_a_development_secret_when_debug_is_off(tmp_path):
    result = run_manage(
        "check", DEBUG="0", SECRET_KEY="django-insecure-" + "x" * 50, STEWARD_VAR_DIR=str(tmp_path)
    )
    assert result.returncode != 0
    assert "is a development secret" in result.stderr


def test_it_reads_the_secret_from_a_file(tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text(PRODUCTION_SECRET)
    result = run_manage(
        "check", DEBUG="0", SECRET_KEY_FILE=str(secret_file), STEWARD_VAR_DIR=str(tmp_path)
    )
    assert result.returncode == 0, result.stderr


def test_debug_generates_a_development_secret_outside_git(tmp_path):
    result = run_manage("check", DEBUG="1", STEWARD_VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "dev-secret-key").read_text().startswith("django-insecure-")


def test_check_deploy_is_clean_in_production_mode(tmp_path):
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY=PRODUCTION_SECRET,
        ALLOWED_HOSTS="steward.example.com",
        STEWARD_VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_database_url_selects_postgresql(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "d = s.DATABASES['default']; "
        "print(d['ENGINE'], d['NAME'], d['CONN_HEALTH_CHECKS'], d['CONN_MAX_AGE'])"
    )
    env = {k: v for k, v in os.environ.items()}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="1",
        STEWARD_VAR_DIR=str(tmp_path),
        DATABASE_URL="postgres://steward@db.internal:5432/steward",
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["django.db.backends.postgresql", "steward", "True", "60"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [("", "filesystem://"), ("redis://127.0.0.1:6379/3", "redis://127.0.0.1:6379/3")],
)
def test_broker_url_defaults_to_the_embedded_broker(tmp_path, url, expected):
    code = "import django; django.setup(); from django.conf import settings as s; print(s.CELERY_BROKER_URL)"
    env = {k: v for k, v in os.environ.items() if k != "CELERY_BROKER_URL"}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", DEBUG="1", STEWARD_VAR_DIR=str(tmp_path))
    if url:
        env["CELERY_BROKER_URL"] = url
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == expected
