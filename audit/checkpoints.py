"""Signed checkpoints of the chain head, kept in the database and published outside it.

A checkpoint document is JSON::

    {"type": "steward.audit.checkpoint", "version": 1, "seq": 1234,
     "head_hash": "<hash of event 1234>", "created_at": "2026-...Z",
     "prev_checkpoint_hash": "<checkpoint_hash of the previous checkpoint>",
     "key_id": "<16 hex>", "checkpoint_hash": "<sha256 of the signed payload>",
     "signature": "<base64 Ed25519 over the payload>"}

The signed payload is the RFC 8785 form of the document without ``checkpoint_hash`` and
``signature``. Anyone holding the public key can check a copy without Steward.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from audit.chain import GENESIS_HASH, canonicalize, format_time
from audit.keys import public_keys, signing_key, verify_signature
from audit.models import Checkpoint, CheckpointReason

logger = logging.getLogger(__name__)

DOCUMENT_TYPE = "steward.audit.checkpoint"
PAYLOAD_FIELDS = (
    "type",
    "version",
    "seq",
    "head_hash",
    "created_at",
    "prev_checkpoint_hash",
    "key_id",
)


def payload_bytes(document: dict[str, Any]) -> bytes:
    return canonicalize({name: document[name] for name in PAYLOAD_FIELDS})


def checkpoint_document(checkpoint: Checkpoint) -> dict[str, Any]:
    return {
        "type": DOCUMENT_TYPE,
        "version": 1,
        "seq": checkpoint.seq,
        "head_hash": checkpoint.head_hash,
        "created_at": format_time(checkpoint.created_at),
        "prev_checkpoint_hash": checkpoint.prev_checkpoint_hash,
        "key_id": checkpoint.key_id,
        "checkpoint_hash": checkpoint.checkpoint_hash,
        "signature": checkpoint.signature,
    }


def shape_problem(document: Any) -> str | None:
    """Why ``document`` is not a checkpoint document at all, or None when it is one."""
    if not isinstance(document, dict) or document.get("type") != DOCUMENT_TYPE:
        return "not a Steward checkpoint document"
    missing = [name for name in (*PAYLOAD_FIELDS, "signature") if name not in document]
    if missing:
        return f"checkpoint lacks {', '.join(missing)}"
    return None


def document_problem(document: Any, keys: dict[str, Any] | None = None) -> str | None:
    """Why a checkpoint document cannot be trusted, or None when its signature holds."""
    shape = shape_problem(document)
    if shape:
        return shape
    keys = public_keys() if keys is None else keys
    key = keys.get(str(document["key_id"]))
    if key is None:
        return f"bad signature: unknown key id {document['key_id']}"
    payload = payload_bytes(document)
    if not verify_signature(key, str(document["signature"]), payload):
        return f"bad signature: checkpoint at seq {document['seq']} is not signed by key {document['key_id']}"
    if document.get("checkpoint_hash") not in (None, hashlib.sha256(payload).hexdigest()):
        return f"bad signature: checkpoint_hash of seq {document['seq']} does not match its payload"
    return None


def locked_head() -> tuple[int, str]:
    """The chain head (seq, hash), row-locked until the transaction ends; created if missing."""
    with connection.cursor() as cursor:
        lock = " FOR UPDATE" if connection.vendor == "postgresql" else ""
        cursor.execute("SELECT seq, hash FROM audit_chainhead WHERE id = 1" + lock)  # noqa: S608
        row = cursor.fetchone()
        if row is None:
            # Start from the last event if the head row was lost (restores, test flushes).
            conflict = " ON CONFLICT (id) DO NOTHING" if connection.vendor == "postgresql" else ""
            or_ignore = " OR IGNORE" if connection.vendor == "sqlite" else ""
            cursor.execute(
                f"INSERT{or_ignore} INTO audit_chainhead (id, seq, hash) "  # noqa: S608
                "SELECT 1, COALESCE(MAX(seq), 0), COALESCE((SELECT hash FROM audit_auditevent "
                "ORDER BY seq DESC LIMIT 1), %s) FROM audit_auditevent" + conflict,
                [GENESIS_HASH],
            )
            cursor.execute("SELECT seq, hash FROM audit_chainhead WHERE id = 1" + lock)  # noqa: S608
            row = cursor.fetchone()
    return int(row[0]), str(row[1])


def checkpoint_create(*, reason: str = CheckpointReason.PERIODIC) -> Checkpoint | None:
    """Sign the current head, unless the latest checkpoint already covers it.

    Holding the head's lock gives a consistent head and a linear chain of checkpoints.
    Returns None while the chain is empty. Publishes the document after commit.
    """
    signer = signing_key()
    with transaction.atomic():
        seq, head_hash = locked_head()
        if seq == 0:
            return None
        last = Checkpoint.objects.order_by("-seq").first()
        if last is not None and last.seq >= seq:
            return last
        now = timezone.now()
        document: dict[str, Any] = {
            "type": DOCUMENT_TYPE,
            "version": 1,
            "seq": seq,
            "head_hash": head_hash,
            "created_at": format_time(now),
            "prev_checkpoint_hash": last.checkpoint_hash if last else GENESIS_HASH,
            "key_id": signer.key_id,
        }
        payload = payload_bytes(document)
        checkpoint = Checkpoint.objects.create(
            seq=seq,
            head_hash=head_hash,
            created_at=now,
            prev_checkpoint_hash=document["prev_checkpoint_hash"],
            key_id=signer.key_id,
            signature=signer.sign(payload),
            checkpoint_hash=hashlib.sha256(payload).hexdigest(),
            reason=reason,
        )
        transaction.on_commit(lambda: publish_checkpoint(checkpoint))
    return checkpoint


def checkpoint_path(checkpoint: Checkpoint | dict[str, Any]) -> Path:
    seq = checkpoint["seq"] if isinstance(checkpoint, dict) else checkpoint.seq
    digest = (
        checkpoint["checkpoint_hash"]
        if isinstance(checkpoint, dict)
        else checkpoint.checkpoint_hash
    )
    name = f"checkpoint-{int(seq):012d}-{str(digest)[:16]}.json"
    return Path(settings.STEWARD_AUDIT_CHECKPOINT_DIR) / name


def publish_checkpoint(checkpoint: Checkpoint) -> Path | None:
    """Write the document to the checkpoint directory; an existing file is never replaced."""
    path = checkpoint_path(checkpoint)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as handle:
            json.dump(checkpoint_document(checkpoint), handle, indent=2, sort_keys=True)
            handle.write("\n")
    except FileExistsError:
        return path
    except OSError:
        logger.exception("cannot publish checkpoint %s to %s", checkpoint.seq, path.parent)
        return None
    return path


def publish_missing_checkpoints(limit: int = 1000) -> int:
    """Publish checkpoints whose file is missing (e.g. the directory was unavailable)."""
    published = 0
    for checkpoint in Checkpoint.objects.order_by("-seq")[:limit]:
        if not checkpoint_path(checkpoint).exists() and publish_checkpoint(checkpoint):
            published += 1
    return published


def published_documents(directory: Path | None = None) -> list[dict[str, Any]]:
    """Checkpoint documents found in a directory (the published one by default)."""
    folder = Path(directory or settings.STEWARD_AUDIT_CHECKPOINT_DIR)
    documents = []
    if folder.is_dir():
        for path in sorted(folder.glob("checkpoint-*.json")):
            documents.append(load_document(path))
    return documents


def load_document(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return {"_source": str(path), "_error": f"unreadable checkpoint file: {exc}"}
    if not isinstance(document, dict):
        return {"_source": str(path), "_error": "not a checkpoint document"}
    document["_source"] = str(path)
    return document


def checkpoint_file_problem(path: Path) -> str | None:
    """What makes a file handed in as a copy of checkpoints no such copy (unreadable, not
    JSON, or not checkpoint documents), or None when it holds one document, a list of them
    or a saved page of ``/api/v1/audit/checkpoints/``. Said before verifying: such a file is
    a mistake of whoever passed it, not a sign that the chain was tampered with."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return "not valid JSON: not UTF-8 text"
    except OSError as exc:
        return f"cannot be read: {exc.strerror or exc}"
    try:
        content = json.loads(text)
    except RecursionError:
        return "not valid JSON: nested too deeply"
    except ValueError as exc:
        return f"not valid JSON: {exc}"
    if isinstance(content, dict) and "results" in content:
        if not isinstance(content["results"], list):
            return "a page of checkpoints whose 'results' is not a list"
        content = content["results"]
    items = content if isinstance(content, list) else [content]
    for index, item in enumerate(items):
        problem = shape_problem(item)
        if problem is None and (
            not isinstance(item["seq"], int) or isinstance(item["seq"], bool) or item["seq"] < 0
        ):
            problem = "its seq is not a sequence number"
        if problem:
            return f"item {index}: {problem}" if isinstance(content, list) else problem
    return None


def load_documents(path: Path) -> list[dict[str, Any]]:
    """The checkpoint documents in a file kept outside Steward: one document (a published
    file), a JSON list of them, or a page of ``/api/v1/audit/checkpoints/`` saved as is."""
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [{"_source": str(path), "_error": f"unreadable checkpoint file: {exc}"}]
    if isinstance(content, dict) and isinstance(content.get("results"), list):
        content = content["results"]
    if not isinstance(content, list):
        content = [content]
    documents = []
    for index, item in enumerate(content):
        source = str(path) if len(content) == 1 else f"{path}[{index}]"
        if isinstance(item, dict):
            documents.append({**item, "_source": source})
        else:
            documents.append({"_source": source, "_error": "not a checkpoint document"})
    return documents
