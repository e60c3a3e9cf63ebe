"""Production logs are JSON lines that carry the request id of the request that caused them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_production_logs_are_json_with_the_request_id(tmp_path):
    code = (
        "import django, logging; django.setup(); from django.test import Client; "
        "from django.urls import path; "
        "Client().get('/api/v1/me/', HTTP_X_REQUEST_ID='req-from-ci-0001')"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "LOG_JSON", "LOG_LEVEL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="0",
        SECRET_KEY="a-production-like-secret-key-for-the-logging-test-0123456789",
        ALLOWED_HOSTS="testserver",
        USE_TLS="0",
        STEWARD_VAR_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    lines = [line for line in result.stderr.splitlines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]
    # The 401 is logged by Django's request logger as a warning, as one JSON object.
    unauthorized = [r for r in records if r.get("logger") == "django.request"]
    assert unauthorized, result.stderr
    assert unauthorized[0]["request_id"] == "req-from-ci-0001"
    assert unauthorized[0]["level"] == "WARNING"
    assert "time" in unauthorized[0]
