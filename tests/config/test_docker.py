"""docker/: no Docker engine runs here, so the files are held to what the README promises by
reading them (and by running the image's build steps that need no engine)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

DOCKER = Path(__file__).resolve().parents[2] / "docker"


def _compose() -> dict[str, Any]:
    return yaml.safe_load((DOCKER / "docker-compose.yml").read_text())  # type: ignore[no-any-return]


def _app_services() -> dict[str, dict[str, Any]]:
    """The services that run the Steward image."""
    services = _compose()["services"]
    return {name: spec for name, spec in services.items() if "build" in spec}


def test_long_running_services_without_a_web_server_override_the_image_healthcheck():
    """The image's HEALTHCHECK probes gunicorn on :8000; a worker or beat container left with
    it is reported unhealthy forever."""
    dockerfile = (DOCKER / "Dockerfile").read_text()
    assert "HEALTHCHECK" in dockerfile and ":8000/healthz" in dockerfile
    for name, spec in _app_services().items():
        if name == "web" or spec.get("restart") == "no":
            continue
        assert "healthcheck" in spec, f"service {name} inherits the web server's HEALTHCHECK"


def test_the_containers_are_given_an_audit_signing_key():
    """DEBUG is off in the containers, so no development key is generated: without one,
    checkpoints and exports fail (README, "Keys")."""
    for name, spec in _app_services().items():
        environment = spec["environment"]
        assert environment["DEBUG"] == "0"
        keys = {"STEWARD_AUDIT_SIGNING_KEY", "STEWARD_AUDIT_SIGNING_KEY_FILE"} & set(environment)
        assert keys, f"service {name} has no audit signing key"
