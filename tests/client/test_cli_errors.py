"""The CLI's exit codes are CI's contract: 1 means deny, so a usage error must be 2."""

from __future__ import annotations

import pytest
from steward_client.cli import EXIT_ERROR, main


@pytest.mark.parametrize(
    ("url", "token"),
    [
        ("http://[::1", "stw_x"),  # unbalanced IPv6 bracket
        ("http://127.0.0.1:9/with space", "stw_x"),  # control characters in the URL
        ("http://127.0.0.1:9", "stw_€"),  # not sendable in an HTTP header
    ],
)
def test_a_malformed_url_or_token_is_a_usage_error_not_a_deny(monkeypatch, capsys, url, token):
    monkeypatch.setenv("STEWARD_URL", url)
    monkeypatch.setenv("STEWARD_TOKEN", token)
    assert main(["check", "--deployment", "web"]) == EXIT_ERROR
    assert capsys.readouterr().err.startswith("steward: cannot call")
