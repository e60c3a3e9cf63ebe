"""``steward`` command line.

Exit codes: 0 allow / OK, 1 deny / verification failed, 2 usage or transport error.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from steward_client.http import ApiError, Client, TransportError

EXIT_OK = 0
EXIT_DENY = 1
EXIT_ERROR = 2


def _print_decision(result: dict[str, Any]) -> None:
    verdict = result.get("decision", "?").upper()
    print(f"{verdict}  decision {result.get('decision_id', '?')}")
    for violation in result.get("violations", []):
        print(f"  ✗ [{violation.get('policy')}/{violation.get('rule')}] {violation.get('message')}")
    for warning in result.get("warnings", []):
        print(f"  ! [{warning.get('policy')}/{warning.get('rule')}] {warning.get('message')}")
    for item in result.get("audit_only", []):
        print(f"  ~ audit-only [{item.get('policy')}/{item.get('rule')}] {item.get('message')}")
    for item in result.get("waived", []):
        print(f"  ○ waived [{item.get('policy')}/{item.get('rule')}] {item.get('message', '')}")


def cmd_check(args: argparse.Namespace) -> int:
    if args.deployment:
        body: dict[str, Any] = {"deployment": args.deployment}
    else:
        missing = [name for name in ("model", "env", "region") if not getattr(args, name)]
        if missing:
            print(
                "steward check: give --deployment, or --model, --env and --region "
                f"(missing: {', '.join('--' + m for m in missing)})",
                file=sys.stderr,
            )
            return EXIT_ERROR
        body = {"model": args.model, "environment": args.env, "region": args.region}
        if args.version:
            body["version"] = args.version
        if args.use_case:
            body["use_case"] = args.use_case
        if args.data:
            body["data_classification"] = args.data
        if args.hosting:
            body["hosting"] = args.hosting
    client = Client.from_env(args.url, args.token)
    result = client.request("POST", "/api/v1/policy/check", body)
    if args.json:
        print(json.dumps(result, indent=2, sort_keys=True))
    else:
        _print_decision(result)
    return EXIT_OK if result.get("decision") == "allow" else EXIT_DENY


def cmd_ping(args: argparse.Namespace) -> int:
    client = Client.from_env(args.url, args.token)
    client.request("GET", "/api/v1/policy/ping")
    print(f"ok: {client.base_url} answers and the token has the policy:check scope")
    return EXIT_OK


def cmd_whoami(args: argparse.Namespace) -> int:
    client = Client.from_env(args.url, args.token)
    me = client.request("GET", "/api/v1/me/")
    print(json.dumps(me, indent=2) if args.json else f"{me['username']} roles={me['roles']}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="steward", description=__doc__)
    parser.add_argument("--url", help="Steward base URL (default: $STEWARD_URL)")
    parser.add_argument("--token", help="API token (default: $STEWARD_TOKEN)")
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check", help="Check a deployment against policy (exit 0 allow, 1 deny)")
    check.add_argument("--deployment", help="A registered deployment's id or slug")
    check.add_argument("--model", help="Model slug")
    check.add_argument("--version", help="Version label (default: latest approved)")
    check.add_argument("--env", help="Environment: dev, staging or prod")
    check.add_argument("--region", help="Region id, e.g. eu-west-1")
    check.add_argument("--use-case", dest="use_case", help="Use case slug")
    check.add_argument("--hosting", help="self_hosted, vendor_api or managed")
    check.add_argument(
        "--data",
        action="append",
        default=[],
        help="Data classification (repeatable): pii, phi, ...",
    )
    check.add_argument("--json", action="store_true", help="Print the full decision as JSON")
    check.set_defaults(func=cmd_check)

    ping = sub.add_parser("ping", help="Check the URL and the token (exit 0 ok, 2 otherwise)")
    ping.set_defaults(func=cmd_ping)

    whoami = sub.add_parser("whoami", help="Show who the token belongs to")
    whoami.add_argument("--json", action="store_true")
    whoami.set_defaults(func=cmd_whoami)

    try:
        from steward_client.verify import add_parser as add_verify_parser
    except ImportError:  # pragma: no cover - verify-export ships with the audit feature
        pass
    else:
        add_verify_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return EXIT_ERROR if exc.code else EXIT_OK
    try:
        return int(args.func(args))
    except ApiError as exc:
        print(f"steward: {exc.message} ({exc.status} {exc.code})", file=sys.stderr)
        for field, errors in exc.fields.items():
            print(f"  {field}: {errors}", file=sys.stderr)
        return EXIT_ERROR
    except TransportError as exc:
        print(f"steward: {exc}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
