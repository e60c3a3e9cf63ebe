"""Writes to the audit trail. ``record_event`` is the one door every service uses."""

from __future__ import annotations

import json
import logging
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from audit.chain import GENESIS_HASH, event_hash, iter_db_events, verify_events
from audit.context import current_context
from audit.models import (
    ActorType,
    AuditEvent,
    ChainHead,
    ChainVerification,
    JobStatus,
    Outcome,
)

logger = logging.getLogger(__name__)

Target = models.Model | tuple[str, Any, str] | None


def _actor_fields(actor: Any) -> tuple[str, str, str]:
    ctx = current_context()
    if actor is None:
        if ctx.channel.startswith("worker"):
            return ActorType.WORKER, ctx.channel, ctx.channel
        if ctx.channel in ("web", "api"):
            return ActorType.ANONYMOUS, "", "anonymous"
        return ActorType.SYSTEM, ctx.channel, ctx.channel
    if isinstance(actor, str):
        return ActorType.SYSTEM, actor, actor
    if getattr(actor, "is_authenticated", False) and hasattr(actor, "username"):
        if ctx.token_id is not None:
            return ActorType.TOKEN, str(actor.pk), f"{actor.username} via {ctx.token_label}"
        return ActorType.USER, str(actor.pk), actor.username
    return ActorType.ANONYMOUS, "", str(actor)[:200]


def _target_fields(target: Target) -> tuple[str, str, str]:
    if target is None:
        return "", "", ""
    if isinstance(target, tuple):
        kind, pk, label = target
        return kind, str(pk), str(label)[:300]
    meta = target._meta
    return f"{meta.app_label}.{meta.model_name}", str(target.pk), str(target)[:300]


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def record_event(
    *,
    actor: Any,
    action: str,
    target: Target = None,
    changes: dict[str, Any] | None = None,
    outcome: str = Outcome.SUCCESS,
    context: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain, inside the caller's transaction.

    Call it from the service that makes the change, inside that service's
    ``transaction.atomic`` block: the event commits or rolls back with the change.
    ``actor`` is a User (a token, when the request authenticated with one, is taken from the
    audit context), a string naming a system actor, or None for the context's channel.
    """
    actor_type, actor_id, actor_label = _actor_fields(actor)
    target_type, target_id, target_label = _target_fields(target)
    ctx = current_context().as_dict()
    if context:
        ctx.update(context)
    with transaction.atomic(savepoint=False):
        # The head row's lock serialises appends: the chain has no forks and no gaps even
        # with concurrent writers. SQLite serialises writers itself (IMMEDIATE transactions).
        head = ChainHead.objects.select_for_update().filter(pk=1).first()
        if head is None:
            head = ChainHead.objects.create(pk=1, seq=0, hash=GENESIS_HASH)
        fields: dict[str, Any] = {
            "seq": head.seq + 1,
            # Microsecond precision is what both databases store, so the hash recomputes.
            "occurred_at": timezone.now(),
            "actor_type": str(actor_type),
            "actor_id": actor_id,
            "actor_label": actor_label[:200],
            "action": action,
            "target_type": target_type,
            "target_id": target_id,
            "target_label": target_label,
            "changes": _jsonable(changes or {}),
            "context": _jsonable(ctx),
            "outcome": str(outcome),
            "prev_hash": head.hash,
        }
        fields["hash"] = event_hash(fields)
        event = AuditEvent.objects.create(**fields)
        ChainHead.objects.filter(pk=1).update(seq=event.seq, hash=event.hash)
    return event


def chain_verification_request(*, actor: Any) -> ChainVerification:
    """Queue a verification of the whole chain; a worker runs it."""
    from audit.tasks import run_chain_verification

    with transaction.atomic():
        job = ChainVerification.objects.create(requested_by=actor if actor else None)
        record_event(actor=actor, action="audit.verification_requested", target=job)
        transaction.on_commit(lambda: run_chain_verification.delay(job.pk))
    return job


def chain_verification_run(*, verification_id: int) -> ChainVerification | None:
    """Run a queued verification exactly once (a redelivered task finds it claimed)."""
    claimed = ChainVerification.objects.filter(pk=verification_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=timezone.now(), attempts=models.F("attempts") + 1
    )
    if not claimed:
        logger.info("chain verification %s already claimed or missing", verification_id)
        return ChainVerification.objects.filter(pk=verification_id).first()
    try:
        result = verify_events(iter_db_events(), expected_prev_hash=GENESIS_HASH)
    except Exception as exc:
        logger.exception("chain verification %s failed", verification_id)
        ChainVerification.objects.filter(pk=verification_id).update(
            status=JobStatus.FAILED, finished_at=timezone.now(), reason=f"error: {exc}"[:2000]
        )
        raise
    with transaction.atomic():
        job = ChainVerification.objects.select_for_update().get(pk=verification_id)
        job.status = JobStatus.SUCCEEDED
        job.finished_at = timezone.now()
        job.ok = result.ok
        job.first_seq = result.first_seq
        job.last_seq = result.last_seq
        job.broken_seq = result.broken_seq
        job.reason = result.reason
        job.save()
        record_event(
            actor=None,
            action="audit.verified" if result.ok else "audit.verification_failed",
            target=job,
            changes={
                "first_seq": result.first_seq,
                "last_seq": result.last_seq,
                "broken_seq": result.broken_seq,
                "reason": result.reason,
            },
            outcome=Outcome.SUCCESS if result.ok else Outcome.FAILURE,
        )
    return job
