"""pip-audit over Steward's pinned dependencies, reporting honestly when it could not audit.

Audits (1) every exact pin in pyproject.toml (runtime and dev extras) and (2) every package
installed in the virtualenv (the transitive closure), against PyPI's vulnerability data.

Exit status: 1 when a known vulnerability is found; 0 otherwise. When the vulnerability
service cannot be reached (no network, or an index mirror without PyPI's JSON API, as on the
build machine), pip-audit reports every package as "not found" and finds nothing: that is
NOT a pass. This script then says so loudly and exits 0, unless STEWARD_REQUIRE_AUDIT=1
(set it in CI runners with internet access), where it exits 2.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIP_AUDIT = Path(sys.executable).with_name("pip-audit")


def pinned_requirements() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        pins.extend(extra)
    return sorted({pin for pin in pins if "==" in pin})


def audit(args: list[str]) -> tuple[list[dict[str, object]], int, str]:
    """(vulnerable packages, packages skipped, stderr) of one pip-audit run."""
    result = subprocess.run(  # noqa: S603 - our own venv's pip-audit, fixed arguments
        [str(PIP_AUDIT), "--progress-spinner", "off", "--format", "json", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    try:
        report = json.loads(result.stdout)
    except ValueError:
        return [], -1, result.stderr or result.stdout
    deps = report.get("dependencies", [])
    vulnerable = [d for d in deps if d.get("vulns")]
    skipped = sum(1 for d in deps if "skip_reason" in d)
    return vulnerable, skipped if deps else -1, result.stderr


def main() -> int:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        pins = pinned_requirements()
        handle.write("\n".join(pins) + "\n")
    runs = {
        f"pinned requirements ({len(pins)} pins)": [
            "-r",
            handle.name,
            "--no-deps",
            "--disable-pip",
        ],
        "installed environment": ["--skip-editable"],
    }
    found: list[dict[str, object]] = []
    unaudited = []
    for label, args in runs.items():
        vulnerable, skipped, stderr = audit(args)
        found.extend(vulnerable)
        if skipped:
            unaudited.append(f"{label}: {'all' if skipped < 0 else skipped} not audited")
            if skipped < 0:
                print(stderr.strip()[-2000:], file=sys.stderr)
        print(f"pip-audit {label}: {len(vulnerable)} vulnerable, {max(skipped, 0)} skipped")
    Path(handle.name).unlink(missing_ok=True)
    for dep in found:
        for vuln in dep["vulns"]:  # type: ignore[attr-defined]
            print(
                f"  VULNERABLE {dep['name']} {dep['version']}: {vuln['id']} fix {vuln.get('fix_versions')}"
            )
    if found:
        return 1
    if unaudited:
        print(
            "pip-audit could NOT check these packages: the vulnerability service (PyPI's JSON "
            "API) is unreachable from here or the index mirror does not serve it. This is not "
            "a pass; run `make security` where pypi.org is reachable.\n  " + "\n  ".join(unaudited)
        )
        return 2 if os.environ.get("STEWARD_REQUIRE_AUDIT") == "1" else 0
    print("pip-audit: no known vulnerabilities in the pinned dependencies.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
