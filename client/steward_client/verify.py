"""``steward verify-export BUNDLE --key PUB.pem``: check a Steward audit export offline.

Needs only the bundle and the public key (no server, no Django, no database). Checks, and
reports each one:

1. signature  — manifest.json.sig is an Ed25519 signature of manifest.json by the key;
2. files      — every file the manifest lists is present with its SHA-256 and size;
3. events     — every event's hash recomputes from its fields (RFC 8785 + SHA-256), and
                consecutive events link (prev_hash = the previous event's hash); CSV cells
                escaped against formula injection (manifest "csv_formula_escape":
                "leading-quote") are unescaped first;
4. event list — the events are exactly those listed in hashes.txt, and count/first/last seq
                match the manifest;
5. checkpoints — each signed checkpoint in the manifest verifies, and matches any exported
                event at its sequence number.

Exit status: 0 all checks pass, 1 a check failed, 2 usage error (unreadable bundle or key).
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import io
import json
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
GENESIS_HASH = "0" * 64
HASHED_FIELDS = (
    "seq",
    "occurred_at",
    "actor_type",
    "actor_id",
    "actor_label",
    "action",
    "target_type",
    "target_id",
    "target_label",
    "changes",
    "context",
    "outcome",
    "prev_hash",
)
# The server puts a ' before a CSV cell starting with one of these (a spreadsheet would run
# it as a formula), a leading ' included, so removing one ' gives back the exact text.
CSV_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "'")
CSV_FORMULA_ESCAPES = ("leading-quote",)
CHECKPOINT_PAYLOAD = (
    "type",
    "version",
    "seq",
    "head_hash",
    "created_at",
    "prev_checkpoint_hash",
    "key_id",
)


class UsageError(Exception):
    pass


_MAX_SAFE_INT = 2**53 - 1


def _as_doubles(value: Any) -> Any:
    """Integers beyond ±2**53 as the doubles they stand for: RFC 8785 numbers are doubles,
    and a server on PostgreSQL exports a float such as 7.5e+23 as 750000000000000000000000
    (the server hashes by the same rule)."""
    if type(value) is int and not -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT:
        return float(value)
    if isinstance(value, dict):
        return {key: _as_doubles(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_doubles(item) for item in value]
    return value


def event_hash(event: dict[str, Any]) -> str:
    body = {name: event[name] for name in HASHED_FIELDS}
    return hashlib.sha256(rfc8785.dumps(_as_doubles(body))).hexdigest()


def key_id_for(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_key(path: str) -> Ed25519PublicKey:
    try:
        with open(path, "rb") as handle:
            key = serialization.load_pem_public_key(handle.read())
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the public key {path}: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise UsageError(f"{path} is not an Ed25519 public key")
    return key


def _signed_by(keys: list[Ed25519PublicKey], signature_b64: str, data: bytes) -> bool:
    try:
        signature = base64.b64decode(signature_b64.strip(), validate=True)
    except ValueError:
        return False
    for key in keys:
        try:
            key.verify(signature, data)
        except InvalidSignature:
            continue
        return True
    return False


@dataclass
class Result:
    checks: list[tuple[str, bool, str]] = field(default_factory=list)

    def add(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append((name, ok, detail))

    @property
    def ok(self) -> bool:
        return all(ok for _, ok, _ in self.checks)

    @property
    def failures(self) -> list[str]:
        return [f"{name}: {detail}" for name, ok, detail in self.checks if not ok]


def unescape_csv_cell(text: str) -> str:
    """A cell of a ``leading-quote`` CSV as the text the server had.

    Raises ValueError for a cell the server cannot have written that way (a formula
    character with no ' before it, or a ' before anything else): escaping is one to one."""
    if text[:1] == "'" and text[1:2] and text[1:2] in CSV_FORMULA_TRIGGERS:
        return text[1:]
    if text.startswith(CSV_FORMULA_TRIGGERS):
        raise ValueError(f"cell {text[:12]!r}… is not escaped as csv_formula_escape says")
    return text


def _csv_rows(text: io.TextIOWrapper, escape: str | None) -> Iterator[dict[str, Any]]:
    if escape is None:
        # Bundles made before the escaping (or by a server without it): read as ever.
        yield from csv.DictReader(text)
        return
    if escape not in CSV_FORMULA_ESCAPES:
        raise ValueError(f"unknown csv_formula_escape {escape!r}")
    reader = csv.reader(text)
    header: list[str] | None = None
    for cells in reader:
        if not cells:
            continue
        try:
            cells = [unescape_csv_cell(cell) for cell in cells]
        except ValueError as exc:
            raise ValueError(f"line {reader.line_num}: {exc}") from None
        if header is None:
            header = cells
        elif len(cells) != len(header):
            raise ValueError(f"line {reader.line_num}: {len(cells)} cells, {len(header)} expected")
        else:
            yield dict(zip(header, cells, strict=True))


def _events(data: bytes, fmt: str, csv_escape: str | None = None) -> Iterator[dict[str, Any]]:
    text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", newline="")
    if fmt == "csv":
        for row in _csv_rows(text, csv_escape):
            event: dict[str, Any] = dict(row)
            event["seq"] = int(event["seq"])
            event["changes"] = json.loads(event["changes"])
            event["context"] = json.loads(event["context"])
            yield event
        return
    for line in text:
        if not line.strip():
            continue
        record = json.loads(line)
        yield record["unmapped"]["steward"] if fmt == "ocsf" else record


def verify_bundle(path: str, keys: list[Ed25519PublicKey]) -> Result:
    result = Result()
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise UsageError(f"{path} is not a readable zip bundle: {exc}") from exc
    with archive:
        names = set(archive.namelist())
        for required in ("manifest.json", "manifest.json.sig"):
            if required not in names:
                result.add("bundle", False, f"{required} is missing")
                return result
        manifest_bytes = archive.read("manifest.json")
        signature = archive.read("manifest.json.sig").decode("ascii", "replace")
        if _signed_by(keys, signature, manifest_bytes):
            result.add(
                "signature",
                True,
                f"manifest signed by key {key_id_for(keys[0])}"
                if len(keys) == 1
                else "manifest signed by a given key",
            )
        else:
            result.add(
                "signature",
                False,
                "bad signature: manifest.json is not signed by the given key "
                f"({', '.join(key_id_for(k) for k in keys)})",
            )
        try:
            manifest = json.loads(manifest_bytes)
        except ValueError as exc:
            result.add("manifest", False, f"manifest.json is not JSON: {exc}")
            return result

        # Files and their digests.
        for name, meta in sorted(manifest.get("files", {}).items()):
            if name not in names:
                result.add("file", False, f"missing file: {name}")
                continue
            data = archive.read(name)
            digest = hashlib.sha256(data).hexdigest()
            if digest != meta.get("sha256") or len(data) != meta.get("size"):
                result.add(
                    "file",
                    False,
                    f"digest mismatch: {name} has sha256 {digest[:16]}… ({len(data)} bytes), the "
                    f"manifest says {str(meta.get('sha256'))[:16]}… ({meta.get('size')} bytes)",
                )
            else:
                result.add("file", True, f"{name} sha256 {digest[:16]}… OK")

        # Events: hashes, links, and the listed hashes.
        events_name = manifest.get("events_file")
        hashes_name = manifest.get("event_hashes_file")
        if events_name not in names or hashes_name not in names:
            result.add("events", False, "the events or hashes file is missing")
            return result
        listed = []
        for line in archive.read(hashes_name).decode("utf-8").splitlines():
            seq_text, _, digest = line.partition(" ")
            listed.append((int(seq_text), digest))
        seen: list[tuple[int, str]] = []
        by_seq: dict[int, str] = {}
        event_problem = None
        previous: dict[str, Any] | None = None
        try:
            for event in _events(
                archive.read(events_name),
                manifest.get("events_format", "jsonl"),
                manifest.get("csv_formula_escape"),
            ):
                seq = int(event["seq"])
                computed = event_hash(event)
                if event_problem is None and computed != event.get("hash"):
                    event_problem = f"hash mismatch at seq {seq}: the event's fields do not hash to {str(event.get('hash'))[:16]}…"
                if (
                    event_problem is None
                    and previous is not None
                    and seq == previous["seq"] + 1
                    and event["prev_hash"] != previous["hash"]
                ):
                    event_problem = (
                        f"link mismatch at seq {seq}: prev_hash is not the hash of seq {seq - 1}"
                    )
                if event_problem is None and previous is not None and seq <= previous["seq"]:
                    event_problem = f"order: seq {seq} follows seq {previous['seq']}"
                seen.append((seq, str(event.get("hash"))))
                by_seq[seq] = str(event.get("hash"))
                previous = {"seq": seq, "hash": event.get("hash")}
        except (ValueError, KeyError, TypeError) as exc:
            event_problem = event_problem or f"unreadable events file {events_name}: {exc}"
        result.add(
            "events",
            event_problem is None,
            event_problem
            or f"{len(seen)} event hashes recomputed, links between consecutive events hold",
        )
        if seen != listed:
            listed_set = dict(listed)
            seen_set = dict(seen)
            missing = [s for s, _ in listed if s not in seen_set]
            extra = [s for s, _ in seen if s not in listed_set]
            changed = [s for s, h in seen if s in listed_set and listed_set[s] != h]
            detail = "event list mismatch:"
            if missing:
                detail += f" seq {missing[0]} listed in {hashes_name} is missing from {events_name}"
                if len(missing) > 1:
                    detail += f" (and {len(missing) - 1} more)"
            if extra:
                detail += f" seq {extra[0]} in {events_name} is not listed in {hashes_name}"
            if changed:
                detail += f" seq {changed[0]} has a different hash than listed"
            result.add("event list", False, detail)
        else:
            result.add("event list", True, f"{len(seen)} events match {hashes_name}")
        expected = (manifest.get("count"), manifest.get("first_seq"), manifest.get("last_seq"))
        actual = (len(seen), seen[0][0] if seen else None, seen[-1][0] if seen else None)
        result.add(
            "count",
            expected == actual,
            f"count/first/last seq {actual}"
            + ("" if expected == actual else f", manifest says {expected}"),
        )

        # Checkpoints carried by the manifest.
        for checkpoint in manifest.get("checkpoints", []):
            seq = checkpoint.get("seq")
            payload = rfc8785.dumps({name: checkpoint.get(name) for name in CHECKPOINT_PAYLOAD})
            if not _signed_by(keys, str(checkpoint.get("signature", "")), payload):
                result.add(
                    "checkpoint",
                    False,
                    f"bad signature: checkpoint at seq {seq} (key {checkpoint.get('key_id')})",
                )
            elif seq in by_seq and by_seq[seq] != checkpoint.get("head_hash"):
                result.add(
                    "checkpoint",
                    False,
                    f"checkpoint mismatch at seq {seq}: the exported event's hash differs from the signed head",
                )
            else:
                result.add(
                    "checkpoint",
                    True,
                    f"checkpoint at seq {seq} signed"
                    + (" and matches the event" if seq in by_seq else ""),
                )
    return result


def cmd_verify_export(args: argparse.Namespace) -> int:
    try:
        keys = [load_key(path) for path in args.key]
        result = verify_bundle(args.bundle, keys)
    except UsageError as exc:
        print(f"steward verify-export: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for name, ok, detail in result.checks:
        print(f"{'OK    ' if ok else 'FAILED'} {name}: {detail}")
    if result.ok:
        print(f"VERIFIED {args.bundle}")
        return EXIT_OK
    print(f"NOT VERIFIED {args.bundle}: {len(result.failures)} check(s) failed", file=sys.stderr)
    return EXIT_FAILED


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "verify-export",
        help="Verify a signed audit export bundle offline (exit 0 OK, 1 failed, 2 usage)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("bundle", help="The export bundle (.zip)")
    parser.add_argument(
        "--key",
        action="append",
        required=True,
        help="Steward's audit public key, PEM (repeatable, for rotated keys)",
    )
    parser.set_defaults(func=cmd_verify_export)
