"""Verify the chain in the database against itself and against signed checkpoints."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection

from audit import pgverify
from audit.chain import GENESIS_HASH, canonical_bytes, iter_db_rows
from audit.checkpoints import checkpoint_document, document_problem, published_documents
from audit.keys import public_keys
from audit.models import AuditEvent, Checkpoint

HASH_MISMATCH = "hash_mismatch"
LINK_MISMATCH = "link_mismatch"
GAP = "gap"
CHECKPOINT_MISMATCH = "checkpoint_mismatch"
BAD_SIGNATURE = "bad_signature"


@dataclass
class VerifyReport:
    ok: bool
    first_seq: int | None
    last_seq: int | None
    count: int
    broken_seq: int | None = None
    problem: str = ""
    reason: str = ""
    checkpoints_checked: int = 0
    last_checkpoint: dict[str, Any] | None = None
    sources: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        if self.ok:
            if self.count == 0:
                return "OK: the chain is empty"
            return (
                f"OK: seq {self.first_seq}..{self.last_seq} verified ({self.count} events, "
                f"{self.checkpoints_checked} checkpoints)"
            )
        return f"FAILED at seq {self.broken_seq}: {self.reason}"


def _first_failure(failures: list[tuple[int, str, str]]) -> tuple[int, str, str] | None:
    return min(failures, key=lambda item: item[0]) if failures else None


_REASONS = {
    GAP: "gap: seq {seq} is missing",
    LINK_MISMATCH: "link mismatch: prev_hash does not match the previous event's hash",
    HASH_MISMATCH: "hash mismatch: the event's content was changed after it was written",
}


def _checkpoint_reason(seq: int, event_hash: str, document: dict[str, Any]) -> str:
    return (
        f"checkpoint mismatch: the event at seq {seq} has hash {event_hash[:16]}…, the "
        f"checkpoint of {document['created_at']} ({document.get('_source', '')}) signed "
        f"{document['head_hash'][:16]}…: events up to seq {seq} were rewritten"
    )


def _python_walk(
    walk: Iterable[tuple[int, str, str, bytes]],
    anchors: dict[int, list[dict[str, Any]]],
    stop_at: tuple[int, str, str] | None,
    failures: list[tuple[int, str, str]],
) -> int | None:
    """Check (seq, prev_hash, hash, canonical bytes) in seq order; append the first failure
    to ``failures`` and return the last seq of the good prefix."""
    last: int | None = None
    prev_hash = GENESIS_HASH
    sha256 = hashlib.sha256
    for seq, event_prev_hash, event_hash, payload in walk:
        if stop_at is not None and seq > stop_at[0]:
            break
        expected = 1 if last is None else last + 1
        if seq != expected:
            failures.append((expected, GAP, _REASONS[GAP].format(seq=expected)))
            break
        if event_prev_hash != prev_hash:
            failures.append((seq, LINK_MISMATCH, _REASONS[LINK_MISMATCH]))
            break
        if sha256(payload).hexdigest() != event_hash:
            failures.append((seq, HASH_MISMATCH, _REASONS[HASH_MISMATCH]))
            break
        wrong = [d for d in anchors.get(seq, ()) if d["head_hash"] != event_hash]
        if wrong:
            failures.append(
                (seq, CHECKPOINT_MISMATCH, _checkpoint_reason(seq, event_hash, wrong[0]))
            )
            break
        last = seq
        prev_hash = event_hash
    return last


def _database_walk(
    anchors: dict[int, list[dict[str, Any]]], failures: list[tuple[int, str, str]]
) -> int | None:
    """The same checks run by PostgreSQL over the stored events (``audit.pgverify``)."""
    signed = {seq: [d["head_hash"] for d in documents] for seq, documents in anchors.items()}
    broken, kind, last = pgverify.first_failure(signed)
    if kind == pgverify.GAP:
        failures.append((broken, GAP, _REASONS[GAP].format(seq=broken)))
    elif kind == pgverify.LINK:
        failures.append((broken, LINK_MISMATCH, _REASONS[LINK_MISMATCH]))
    elif kind == pgverify.HASH:
        failures.append((broken, HASH_MISMATCH, _REASONS[HASH_MISMATCH]))
    elif kind:
        stored = AuditEvent.objects.filter(seq=broken).values_list("hash", flat=True).get()
        wrong = [d for d in anchors[broken] if d["head_hash"] != stored]
        failures.append((broken, CHECKPOINT_MISMATCH, _checkpoint_reason(broken, stored, wrong[0])))
    return last


def verify_chain(
    *,
    checkpoint_files: Iterable[Path] = (),
    use_published: bool = True,
    events: Iterable[dict[str, Any]] | None = None,
) -> VerifyReport:
    """Walk every event from seq 1: sequence, links, hashes; then hold the result against
    every checkpoint known — the database's, the published directory's and ``checkpoint_files``
    (copies kept outside). Reports the lowest broken sequence number and why."""
    from audit.checkpoints import load_documents

    keys = public_keys()
    documents: list[dict[str, Any]] = [
        checkpoint_document(cp) | {"_source": "database"}
        for cp in Checkpoint.objects.order_by("seq")
    ]
    if use_published:
        documents += published_documents()
    for path in checkpoint_files:
        documents += load_documents(Path(path))

    failures: list[tuple[int, str, str]] = []
    anchors: dict[int, list[dict[str, Any]]] = {}
    for document in documents:
        source = document.get("_source", "")
        if "_error" in document:
            failures.append((0, BAD_SIGNATURE, f"{document['_error']} ({source})"))
            continue
        problem = document_problem(document, keys)
        if problem:
            seq = int(document.get("seq") or 0) if isinstance(document.get("seq"), int) else 0
            failures.append((seq, BAD_SIGNATURE, f"{problem} ({source})"))
            continue
        anchors.setdefault(int(document["seq"]), []).append(document)

    # The database's checkpoints form a chain of their own.
    previous = GENESIS_HASH
    for cp in Checkpoint.objects.order_by("seq").only(
        "seq", "prev_checkpoint_hash", "checkpoint_hash"
    ):
        if cp.prev_checkpoint_hash != previous:
            failures.append(
                (
                    cp.seq,
                    CHECKPOINT_MISMATCH,
                    f"checkpoint mismatch: the checkpoint at seq {cp.seq} does not follow the "
                    "previous checkpoint (a checkpoint was removed or replaced)",
                )
            )
            break
        previous = cp.checkpoint_hash

    stop_at = _first_failure(failures)
    if events is None and connection.vendor == "postgresql":
        last = _database_walk(anchors, failures)
    else:
        rows = iter_db_rows() if events is None else events
        walk = ((e["seq"], e["prev_hash"], e["hash"], canonical_bytes(e)) for e in rows)
        last = _python_walk(walk, anchors, stop_at, failures)
    if stop_at is not None and last is not None:
        last = min(last, stop_at[0])
    # A good prefix starts at seq 1 and has no gap.
    first, count = (1, last) if last else (None, 0)
    if not failures:
        beyond = [seq for seq in anchors if last is None or seq > last]
        if beyond:
            seq = min(beyond)
            failures.append(
                (
                    (last or 0) + 1,
                    CHECKPOINT_MISMATCH,
                    f"checkpoint mismatch: a checkpoint covers seq {seq} but the chain ends at "
                    f"seq {last or 0}: events were removed",
                )
            )
    checked = sum(1 for seq in anchors if last is not None and seq <= last)
    latest = max(anchors) if anchors else None
    last_checkpoint = None
    if latest is not None:
        last_checkpoint = {k: v for k, v in anchors[latest][0].items() if not k.startswith("_")}
    sources = sorted({d.get("_source", "") for docs in anchors.values() for d in docs})
    failure = _first_failure(failures)
    if failure is None:
        return VerifyReport(
            True, first, last, count, None, "", "", checked, last_checkpoint, sources
        )
    broken, problem, reason = failure
    # What was verified is what came before the break.
    good_last = last if last is not None and last < broken else (broken - 1 if broken > 1 else None)
    return VerifyReport(
        False,
        first if good_last else None,
        good_last,
        min(count, good_last or 0),
        broken,
        problem,
        reason,
        checked,
        last_checkpoint,
        sources,
    )
