"""Build an export bundle: a zip holding the report, the events, their hashes, a manifest
and a detached Ed25519 signature over the manifest.

```
export-<id>.zip
  events.jsonl | events.csv | events.ocsf.jsonl | report.pdf + events.jsonl
                       (CSV cells are escaped against formula injection, see csv_cell)
  hashes.txt           "<seq> <hash>" per exported event, in order
  manifest.json        RFC 8785 JSON: filters, count, first/last seq, files and SHA-256s,
                       the signed checkpoints the export spans, key id
  manifest.json.sig    base64 Ed25519 signature over the exact bytes of manifest.json
```

Events stream from the database (server-side cursor) to files on disk, so memory stays flat
whatever the size; the zip is written from those files.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db.models import QuerySet

from audit.chain import HASHED_FIELDS, canonicalize, format_time
from audit.checkpoints import checkpoint_document
from audit.exports.ocsf import ocsf_event
from audit.exports.pdf import ReportSummary, write_pdf
from audit.keys import signing_key
from audit.models import AuditEvent, Checkpoint, ExportFormat, ReportExport

EVENT_FIELDS = (*HASHED_FIELDS, "hash")
CHUNK = 2000
MAX_CHECKPOINTS = 1000
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode

# A spreadsheet runs a cell starting with one of these as a formula (CSV injection,
# CWE-1236), and event fields such as a failed sign-in's username come from outsiders. OWASP:
# prefix such a cell with '. A cell that already starts with ' is prefixed too, so removing
# one leading ' before any of these gives back exactly the original text (the offline
# verifier does so, told by the manifest's "csv_formula_escape", to recompute the hashes).
CSV_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "'")
CSV_FORMULA_ESCAPE = "leading-quote"

EVENTS_FILE = {
    ExportFormat.JSONL: ("events.jsonl", "jsonl"),
    ExportFormat.CSV: ("events.csv", "csv"),
    ExportFormat.OCSF: ("events.ocsf.jsonl", "ocsf"),
    ExportFormat.PDF: ("events.jsonl", "jsonl"),
}


def iter_export_events(qs: QuerySet[AuditEvent]) -> Iterator[dict[str, Any]]:
    for row in qs.order_by("seq").values_list(*EVENT_FIELDS).iterator(chunk_size=CHUNK):
        event = dict(zip(EVENT_FIELDS, row, strict=True))
        event["occurred_at"] = format_time(event["occurred_at"])
        yield event


def csv_cell(value: Any) -> str:
    """``value`` as the text of a CSV cell, with a ' before a leading formula character."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(CSV_FORMULA_TRIGGERS) else text


class _DigestWriter:
    """A text file that hashes what is written to it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle: IO[bytes] = path.open("wb")
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, text: str) -> int:
        data = text.encode("utf-8")
        self.handle.write(data)
        self.digest.update(data)
        self.size += len(data)
        return len(text)

    def close(self) -> dict[str, Any]:
        self.handle.close()
        return {"sha256": self.digest.hexdigest(), "size": self.size}


def build_bundle(
    export: ReportExport,
    qs: QuerySet[AuditEvent],
    checkpoint: Checkpoint,
    *,
    total: int,
    on_progress: Callable[[int, int], None],
    escape_csv_formulas: bool = True,
) -> dict[str, Any]:
    """Write the bundle for ``export``; returns the fields to store on the export row.

    ``escape_csv_formulas=False`` writes CSV cells verbatim, as bundles made before the
    escaping were: only for checking that the verifier still reads those."""
    signer = signing_key()
    out_dir = Path(settings.STEWARD_AUDIT_EXPORT_DIR)
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"export-{export.pk}-", dir=out_dir))
    try:
        events_name, events_format = EVENTS_FILE[ExportFormat(export.format)]
        events_out = _DigestWriter(work / events_name)
        hashes_out = _DigestWriter(work / "hashes.txt")
        csv_writer = None
        escape_csv = escape_csv_formulas and events_format == "csv"
        cell: Callable[[Any], Any] = csv_cell if escape_csv else _verbatim
        if events_format == "csv":
            csv_writer = csv.writer(events_out, lineterminator="\n")
            csv_writer.writerow([cell(name) for name in EVENT_FIELDS])
        summary = ReportSummary() if export.format == ExportFormat.PDF else None
        count = 0
        first_seq: int | None = None
        last_seq: int | None = None
        for event in iter_export_events(qs):
            if csv_writer is not None:
                csv_writer.writerow(
                    [
                        cell(_dumps(event[name]) if name in ("changes", "context") else event[name])
                        for name in EVENT_FIELDS
                    ]
                )
            elif events_format == "ocsf":
                events_out.write(_dumps(ocsf_event(event)) + "\n")
            else:
                events_out.write(_dumps(event) + "\n")
            hashes_out.write(f"{event['seq']} {event['hash']}\n")
            if summary is not None:
                summary.add(event)
            count += 1
            first_seq = first_seq if first_seq is not None else event["seq"]
            last_seq = event["seq"]
            if count % CHUNK == 0:
                on_progress(count, total)
        files = {
            events_name: {**events_out.close(), "role": "events"},
            "hashes.txt": {**hashes_out.close(), "role": "event_hashes"},
        }
        report_name = events_name
        meta: dict[str, Any] = {
            "type": "steward.audit.export",
            "version": 1,
            "export_id": export.pk,
            "created_at": format_time(export.created_at),
            "requested_by": export.requested_by.username if export.requested_by else "",
            "format": export.format,
            "filters": export.filters,
            "count": count,
            "first_seq": first_seq,
            "last_seq": last_seq,
            "chain_head_seq": checkpoint.seq,
        }
        if summary is not None:
            report_name = "report.pdf"
            write_pdf(work / report_name, summary, meta)
            files[report_name] = {**_file_digest(work / report_name), "role": "report"}
        spanned = Checkpoint.objects.filter(seq__lte=checkpoint.seq)
        if first_seq is not None:
            before = Checkpoint.objects.filter(seq__lt=first_seq).order_by("-seq").first()
            spanned = spanned.filter(seq__gte=before.seq if before else first_seq)
        checkpoints = [
            checkpoint_document(cp) for cp in spanned.order_by("-seq")[:MAX_CHECKPOINTS]
        ][::-1]
        manifest = {
            **meta,
            "report_file": report_name,
            "events_file": events_name,
            "events_format": events_format,
            "event_hashes_file": "hashes.txt",
            "files": files,
            "hash_algorithm": "sha256",
            "canonicalization": "RFC 8785",
            "hashed_fields": list(HASHED_FIELDS),
            "chain_head": {"seq": checkpoint.seq, "hash": checkpoint.head_hash},
            "checkpoints": checkpoints,
            "key_id": signer.key_id,
            "signature_algorithm": "Ed25519",
            "signature_file": "manifest.json.sig",
        }
        if escape_csv:
            # Signed with the rest: how to read the cells back before hashing them.
            manifest["csv_formula_escape"] = CSV_FORMULA_ESCAPE
        manifest_bytes = canonicalize(manifest)
        signature = signer.sign(manifest_bytes)
        bundle_name = f"steward-audit-export-{export.pk}.zip"
        partial = work / bundle_name
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name in files:
                archive.write(work / name, arcname=name)
            archive.writestr("manifest.json", manifest_bytes)
            archive.writestr("manifest.json.sig", signature + "\n")
        final = out_dir / bundle_name
        partial.replace(final)
        on_progress(count, total)
        return {
            "count": count,
            "first_seq": first_seq,
            "last_seq": last_seq,
            "bundle_name": bundle_name,
            "manifest": manifest,
            **{f"bundle_{k}": v for k, v in _file_digest(final).items()},
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def remove_abandoned_work_dirs(older_than_seconds: float) -> int:
    """Delete the working folders (``export-<id>-*``) of exports whose worker died while
    writing them: nothing else removes them, and they hold a copy of the events."""
    out_dir = Path(settings.STEWARD_AUDIT_EXPORT_DIR)
    if not out_dir.is_dir():
        return 0
    cutoff = time.time() - older_than_seconds
    removed = 0
    for work in out_dir.glob("export-*-*"):
        try:
            touched = max(path.stat().st_mtime for path in [work, *work.iterdir()])
        except OSError:
            continue
        if work.is_dir() and touched < cutoff:
            shutil.rmtree(work, ignore_errors=True)
            removed += 1
    return removed


def _verbatim(value: Any) -> Any:
    return value


def _file_digest(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
            size += len(block)
    return {"sha256": digest.hexdigest(), "size": size}


def bundle_path(export: ReportExport) -> Path:
    return Path(settings.STEWARD_AUDIT_EXPORT_DIR) / export.bundle_name


def read_member(export: ReportExport, name: str) -> bytes:
    with zipfile.ZipFile(bundle_path(export)) as archive:
        return archive.read(name)
