"""The real ``steward`` console script against a live test server: exit codes are the CI
contract (0 allow, 1 deny, 2 usage or transport error)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.policy.factories import approved_version

pytestmark = pytest.mark.integration

STEWARD = str(Path(sys.executable).with_name("steward"))


@pytest.fixture
def run(live_server, packs, make_user, token_for):
    approved_version(slug="eu-only", conditions={"jurisdictions": ["EU"]})
    _, secret = token_for(make_user("ci-bot", ["viewer"], is_service_account=True), "policy:check")

    def steward(*args: str, url: str | None = None, token: str | None = None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("STEWARD_")}
        env["STEWARD_URL"] = url or live_server.url
        env["STEWARD_TOKEN"] = token or secret
        return subprocess.run(
            [STEWARD, *args], capture_output=True, text=True, env=env, timeout=60, check=False
        )

    return steward


CHECK = ["check", "--model", "eu-only", "--env", "prod", "--use-case", "customer-support-chatbot"]


def test_allow_exits_0(run):
    result = run(*CHECK, "--region", "eu-west-1", "--data", "pii")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ALLOW")
    assert "transparency-duties" in result.stdout  # warnings are shown, not fatal


def test_deny_exits_1_with_reasons(run):
    result = run(*CHECK, "--region", "us-east-1", "--data", "pii")
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("DENY")
    assert "model-approval/approval-region" in result.stdout
    assert "data-residency/personal-data-eu-residency" in result.stdout


def test_json_output(run):
    result = run(*CHECK, "--region", "us-east-1", "--data", "pii", "--json")
    assert result.returncode == 1
    body = json.loads(result.stdout)
    assert body["decision"] == "deny" and body["decision_id"].startswith("dec_")


def test_usage_and_transport_errors_exit_2(run):
    assert run("check", "--model", "eu-only", "--env", "prod").returncode == 2  # no region
    unknown = run("check", "--model", "nope", "--env", "prod", "--region", "eu-west-1")
    assert unknown.returncode == 2 and "model" in unknown.stderr
    assert run(*CHECK, "--region", "eu-west-1", token="stw_wrong").returncode == 2
    assert run("ping", url="http://127.0.0.1:9").returncode == 2
    assert run("frobnicate").returncode == 2


def test_ping(run):
    result = run("ping")
    assert result.returncode == 0, result.stderr
