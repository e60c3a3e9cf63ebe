"""Writes to the audit trail. ``record_event`` is the one door every service uses."""

from __future__ import annotations

import json
import logging
from typing import Any, overload

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils import timezone

from audit.append import RowInsert, RowUpdate, append_event
from audit.chain import canonical_text
from audit.context import current_context
from audit.models import (
    ActorType,
    AuditEvent,
    ChainVerification,
    Checkpoint,
    CheckpointReason,
    ExportFormat,
    JobStatus,
    Outcome,
    ReportExport,
)
from audit.verification import verify_chain
from config.exceptions import DomainError
from config.jobs import claim_queued, enqueue, job_lease, requeue_stuck

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


@overload
def record_event(
    *,
    actor: Any,
    action: str,
    target: Target = None,
    changes: dict[str, Any] | None = None,
    outcome: str = Outcome.SUCCESS,
    context: dict[str, Any] | None = None,
    insert: RowInsert | None = None,
) -> AuditEvent: ...


@overload
def record_event(
    *,
    actor: Any,
    action: str,
    target: Target = None,
    changes: dict[str, Any] | None = None,
    outcome: str = Outcome.SUCCESS,
    context: dict[str, Any] | None = None,
    update: RowUpdate,
) -> AuditEvent | None: ...


def record_event(
    *,
    actor: Any,
    action: str,
    target: Target = None,
    changes: dict[str, Any] | None = None,
    outcome: str = Outcome.SUCCESS,
    context: dict[str, Any] | None = None,
    insert: RowInsert | None = None,
    update: RowUpdate | None = None,
) -> AuditEvent | None:
    """Append one event to the chain, inside the caller's transaction.

    Call it from the service that makes the change, inside that service's
    ``transaction.atomic`` block: the event commits or rolls back with the change.
    ``actor`` is a User (a token, when the request authenticated with one, is taken from the
    audit context), a string naming a system actor, or None for the context's channel.
    ``insert``: the row the event is about, inserted first (see ``RowInsert``); the event's
    ``target_id`` is then its primary key. ``update``: a conditional update of the row the
    event is about (see ``RowUpdate``), written with the event; if it changes no row,
    nothing is written and the result is None.
    """
    actor_type, actor_id, actor_label = _actor_fields(actor)
    target_type, target_id, target_label = _target_fields(target)
    ctx = current_context().as_dict()
    if context:
        ctx.update(context)
    fields: dict[str, Any] = {
        "seq": 0,
        "occurred_at": None,
        "actor_type": str(actor_type),
        "actor_id": actor_id,
        "actor_label": actor_label[:200],
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "target_label": target_label,
        "changes": None,
        "context": None,
        "outcome": str(outcome),
        "prev_hash": "",
    }
    # Serialised before taking the lock, which is held for as short a time as possible. The
    # loads() gives the plain JSON values (dates as strings...) that the hash covers; the
    # columns store their canonical text, the bytes the hash covers (see CanonicalJSONField).
    fields["changes"] = json.loads(json.dumps(changes or {}, cls=DjangoJSONEncoder))
    fields["context"] = json.loads(json.dumps(ctx, cls=DjangoJSONEncoder))
    changes_json = canonical_text(fields["changes"])
    context_json = canonical_text(fields["context"])
    return append_event(fields, changes_json, context_json, insert, update)


def chain_verification_request(*, actor: Any) -> ChainVerification:
    """Queue a verification of the whole chain; a worker runs it."""
    from audit.tasks import run_chain_verification

    with transaction.atomic():
        job = ChainVerification.objects.create(requested_by=actor if actor else None)
        record_event(actor=actor, action="audit.verification_requested", target=job)
        transaction.on_commit(lambda: enqueue(run_chain_verification, job.pk))
    return job


def queued_jobs_sweep() -> int:
    """Periodic: publish again the verifications and exports whose task never reached the
    broker (it was down when they were requested), or whose worker died while running them."""
    from audit.exports.bundle import remove_abandoned_work_dirs
    from audit.tasks import run_chain_verification, run_export

    sent = requeue_stuck(ChainVerification, run_chain_verification) + requeue_stuck(
        ReportExport, run_export, on_abandoned=_exports_abandoned
    )
    remove_abandoned_work_dirs(job_lease().total_seconds())
    return sent


def _exports_abandoned(export_ids: list[Any]) -> None:
    with transaction.atomic():
        for export in ReportExport.objects.filter(pk__in=export_ids):
            record_event(
                actor=None,
                action="audit.export_failed",
                target=export,
                changes={"error": export.error[:500]},
                outcome=Outcome.FAILURE,
            )


def chain_verification_run(*, verification_id: int) -> ChainVerification | None:
    """Run a queued verification exactly once (a redelivered task finds it claimed)."""
    if not claim_queued(ChainVerification, verification_id):
        logger.info("chain verification %s already claimed or missing", verification_id)
        return ChainVerification.objects.filter(pk=verification_id).first()
    try:
        result = verify_chain()
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
                "problem": result.problem,
                "checkpoints_checked": result.checkpoints_checked,
            },
            outcome=Outcome.SUCCESS if result.ok else Outcome.FAILURE,
        )
    return job


# --- Exports -----------------------------------------------------------------------------------


def export_request(*, actor: Any, format: str, filters: dict[str, Any]) -> ReportExport:
    """Queue a signed export of the events matching ``filters``; a worker builds it."""
    from audit.filtersets import bound_filterset, clean_filters
    from audit.selectors import require_exporter
    from audit.tasks import run_export

    require_exporter(actor)
    if format not in ExportFormat.values:
        raise DomainError(
            f"Unknown format {format!r}: use one of {', '.join(ExportFormat.values)}.",
            fields={"format": [f"Choose one of {', '.join(ExportFormat.values)}."]},
        )
    clean = clean_filters(filters)
    bound_filterset(clean, AuditEvent.objects.all())
    with transaction.atomic():
        export = ReportExport.objects.create(format=format, filters=clean, requested_by=actor)
        record_event(
            actor=actor,
            action="audit.export_requested",
            target=export,
            changes={"format": format, "filters": clean},
        )
        transaction.on_commit(lambda: enqueue(run_export, export.pk))
    return export


def export_run(*, export_id: int) -> ReportExport | None:
    """Build a queued export exactly once (a redelivered task finds it claimed)."""
    from audit.checkpoints import checkpoint_create
    from audit.exports.bundle import build_bundle
    from audit.filtersets import AuditEventFilterSet

    if not claim_queued(ReportExport, export_id):
        logger.info("export %s already claimed or missing", export_id)
        return ReportExport.objects.filter(pk=export_id).first()
    export = ReportExport.objects.select_related("requested_by").get(pk=export_id)
    try:
        # Every export signs the head first: the export is the chain up to that checkpoint.
        checkpoint = checkpoint_create(reason=CheckpointReason.EXPORT)
        if checkpoint is None:
            raise DomainError("The audit trail is empty.")
        filterset = AuditEventFilterSet(
            data=export.filters, queryset=AuditEvent.objects.filter(seq__lte=checkpoint.seq)
        )
        qs = filterset.qs if filterset.is_valid() else AuditEvent.objects.none()
        total = qs.count()
        ReportExport.objects.filter(pk=export_id).update(checkpoint=checkpoint)

        def progress(done: int, of: int) -> None:
            percent = 100 if not of else min(99, done * 100 // of)
            ReportExport.objects.filter(pk=export_id).update(progress=percent, count=done)

        result = build_bundle(export, qs, checkpoint, total=total, on_progress=progress)
    except Exception as exc:
        logger.exception("export %s failed", export_id)
        message = exc.message if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
        with transaction.atomic():
            ReportExport.objects.filter(pk=export_id).update(
                status=JobStatus.FAILED, finished_at=timezone.now(), error=message[:2000]
            )
            record_event(
                actor=None,
                action="audit.export_failed",
                target=export,
                changes={"error": message[:500]},
                outcome=Outcome.FAILURE,
            )
        if isinstance(exc, DomainError):
            return ReportExport.objects.get(pk=export_id)
        raise
    with transaction.atomic():
        ReportExport.objects.filter(pk=export_id).update(
            status=JobStatus.SUCCEEDED, finished_at=timezone.now(), progress=100, **result
        )
        export.refresh_from_db()
        record_event(
            actor=None,
            action="audit.exported",
            target=export,
            changes={
                "format": export.format,
                "count": export.count,
                "first_seq": export.first_seq,
                "last_seq": export.last_seq,
                "bundle_sha256": export.bundle_sha256,
                "checkpoint_seq": checkpoint.seq,
            },
        )
    return export


def checkpoint_periodic() -> Checkpoint | None:
    """The beat task's work: sign the head if it moved, and publish any unpublished file."""
    from audit.checkpoints import checkpoint_create, publish_missing_checkpoints

    checkpoint = checkpoint_create(reason=CheckpointReason.PERIODIC)
    publish_missing_checkpoints()
    return checkpoint
