"""docker/: no Docker engine runs here, so the files are held to what the README promises by
reading them (and by running the image's build steps that need no engine)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from tests.config.test_settings_env import PRODUCTION_SECRET, run_manage

DOCKER = Path(__file__).resolve().parents[2] / "docker"


def _compose() -> dict[str, Any]:
    return yaml.safe_load((DOCKER / "docker-compose.yml").read_text())  # type: ignore[no-any-return]


def _app_services() -> dict[str, dict[str, Any]]:
    """The services that run the Steward image."""
    services = _compose()["services"]
    return {name: spec for name, spec in services.items() if "build" in spec}


def _dockerfile_env(name: str) -> str:
    match = re.search(rf"^\s*{name}=(\S+)", (DOCKER / "Dockerfile").read_text(), re.MULTILINE)
    assert match, f"{name} is not set in docker/Dockerfile"
    return match.group(1)


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


def test_static_files_are_collected_outside_the_data_volume(tmp_path):
    """A named volume keeps what the image that first filled it held: static files under it
    would stay those of the first image after every rebuild."""
    static_root = _dockerfile_env("STATIC_ROOT")
    var_dir = _dockerfile_env("STEWARD_VAR_DIR")
    for name, spec in _app_services().items():
        for volume in spec.get("volumes", []):
            mount = volume.split(":")[1].rstrip("/")
            assert not static_root.startswith(mount + "/"), f"{name}: {static_root} in a volume"
    assert not static_root.startswith(var_dir.rstrip("/") + "/")

    # The image's collectstatic step, with its environment: the files land in STATIC_ROOT.
    result = run_manage(
        "collectstatic",
        "--noinput",
        "--verbosity",
        "0",
        DEBUG="0",
        SECRET_KEY=PRODUCTION_SECRET,
        STEWARD_VAR_DIR=str(tmp_path / "var"),
        STATIC_ROOT=str(tmp_path / "static"),
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "static" / "staticfiles.json").exists()
    assert not (tmp_path / "var" / "staticfiles").exists()


def test_web_concurrency_sets_the_number_of_gunicorn_processes():
    """README: run more gunicorn processes with WEB_CONCURRENCY. A --workers on the command
    line would override it."""
    cmd = next(
        line for line in (DOCKER / "Dockerfile").read_text().splitlines() if line.startswith("CMD")
    )
    assert "gunicorn" in cmd and "--workers" not in cmd and "-w" not in cmd.split()
    assert int(_dockerfile_env("WEB_CONCURRENCY")) >= 2
    assert "WEB_CONCURRENCY" in _app_services()["web"]["environment"]


def test_the_image_installs_no_libmagic():
    """File types are read from magic bytes in Python (provenance/media.py); nothing loads
    libmagic, so the image does not carry it."""
    installs = [
        line
        for line in (DOCKER / "Dockerfile").read_text().splitlines()
        if "apt-get install" in line
    ]
    assert installs and not any("libmagic" in line for line in installs)
    root = DOCKER.parent
    for app in ("accounts", "audit", "config", "policy", "provenance", "registry"):
        for source in (root / app).rglob("*.py"):
            text = source.read_text()
            assert not re.search(r"^\s*(import magic|from magic )", text, re.MULTILINE), source


def test_the_readme_says_how_the_containers_get_a_development_signing_credential():
    """Without a credential signing answers 409 no_signing_credential; the README's Docker
    section gives the command, run in the containers, and says it is for development."""
    readme = (DOCKER.parent / "README.md").read_text()
    docker = readme.split("\n## Docker\n", 1)[1].split("\n## ", 1)[0]
    assert (
        "docker compose -f docker/docker-compose.yml exec web python manage.py "
        "provenance_init_dev_ca" in docker
    )
    assert "no_signing_credential" in docker and "development only" in docker
    # The keys must land in the volume every app container mounts (the workers sign).
    var_dir = _dockerfile_env("STEWARD_VAR_DIR")
    for name, spec in _app_services().items():
        assert spec["environment"]["STEWARD_VAR_DIR"] == var_dir, name
        assert any(v.split(":")[1] == var_dir for v in spec.get("volumes", [])), name


def test_the_development_credential_command_runs_as_in_the_containers(tmp_path):
    """DEBUG off, as in the containers: the command (system checks included) creates the CA
    under STEWARD_VAR_DIR/keys and registers the active credential."""
    env = {
        "DEBUG": "0",
        "SECRET_KEY": PRODUCTION_SECRET,
        "STEWARD_VAR_DIR": str(tmp_path),
        "DATABASE_URL": "",
        "CELERY_BROKER_URL": "",
    }
    migrated = run_manage("migrate", "--noinput", **env)
    assert migrated.returncode == 0, migrated.stderr
    result = run_manage("provenance_init_dev_ca", **env)
    assert result.returncode == 0, result.stderr
    assert "Registered: steward-dev" in result.stdout and "Active: True" in result.stdout
    assert f"file:{tmp_path / 'keys' / 'dev-signer.key'}" in result.stdout
    assert (tmp_path / "keys" / "dev-signer.key").stat().st_mode & 0o077 == 0
