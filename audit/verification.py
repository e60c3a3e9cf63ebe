"""Verify the chain in the database against itself and against signed checkpoints."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from audit.chain import GENESIS_HASH, canonical_bytes, iter_db_canonical
from audit.checkpoints import checkpoint_document, document_problem, published_documents
from audit.keys import public_keys
from audit.models import Checkpoint

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


def verify_chain(
    *,
    checkpoint_files: Iterable[Path] = (),
    use_published: bool = True,
    events: Iterable[dict[str, Any]] | None = None,
) -> VerifyReport:
    """Walk every event from seq 1: sequence, links, hashes; then hold the result against
    every checkpoint known — the database's, the published directory's and ``checkpoint_files``
    (copies kept outside). Reports the lowest broken sequence number and why."""
    from audit.checkpoints import load_document

    keys = public_keys()
    documents: list[dict[str, Any]] = [
        checkpoint_document(cp) | {"_source": "database"}
        for cp in Checkpoint.objects.order_by("seq")
    ]
    if use_published:
        documents += published_documents()
    documents += [load_document(Path(path)) for path in checkpoint_files]

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

    first: int | None = None
    last: int | None = None
    count = 0
    prev_hash = GENESIS_HASH
    sha256 = hashlib.sha256
    walk = (
        iter_db_canonical()
        if events is None
        else ((e["seq"], e["prev_hash"], e["hash"], canonical_bytes(e)) for e in events)
    )
    stop_at = _first_failure(failures)
    for seq, event_prev_hash, event_hash, payload in walk:
        if stop_at is not None and seq > stop_at[0]:
            break
        expected = 1 if last is None else last + 1
        if seq != expected:
            failures.append((expected, GAP, f"gap: seq {expected} is missing"))
            break
        if event_prev_hash != prev_hash:
            failures.append(
                (
                    seq,
                    LINK_MISMATCH,
                    "link mismatch: prev_hash does not match the previous event's hash",
                )
            )
            break
        if sha256(payload).hexdigest() != event_hash:
            failures.append(
                (
                    seq,
                    HASH_MISMATCH,
                    "hash mismatch: the event's content was changed after it was written",
                )
            )
            break
        for document in anchors.get(seq, ()):
            if document["head_hash"] != event_hash:
                failures.append(
                    (
                        seq,
                        CHECKPOINT_MISMATCH,
                        f"checkpoint mismatch: the event at seq {seq} has hash "
                        f"{event_hash[:16]}…, the checkpoint of {document['created_at']} "
                        f"({document.get('_source', '')}) signed {document['head_hash'][:16]}…: "
                        f"events up to seq {seq} were rewritten",
                    )
                )
                break
        else:
            if first is None:
                first = seq
            last = seq
            count += 1
            prev_hash = event_hash
            continue
        break
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
