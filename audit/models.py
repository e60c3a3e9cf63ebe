from __future__ import annotations

from django.db import models

from audit.fields import CanonicalJSONField
from config.jobs import JobStatus


class ActorType(models.TextChoices):
    USER = "user", "User"
    TOKEN = "token", "API token"
    WORKER = "worker", "Worker"
    SYSTEM = "system", "System"
    ANONYMOUS = "anonymous", "Anonymous"


class Outcome(models.TextChoices):
    SUCCESS = "success", "Success"
    FAILURE = "failure", "Failure"
    DENIED = "denied", "Denied"


class AuditEvent(models.Model):
    """One entry of the append-only, hash-chained audit trail.

    ``hash`` = SHA-256 of the RFC 8785 canonical JSON of the event's fields, which include
    ``prev_hash``; so changing, removing or inserting any event breaks every later link.
    Never update or delete rows: the database refuses it (see the migrations).
    """

    seq = models.BigIntegerField(unique=True)
    occurred_at = models.DateTimeField(db_index=True)
    actor_type = models.CharField(max_length=16, choices=ActorType.choices)
    actor_id = models.CharField(max_length=64, blank=True)
    actor_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=100, db_index=True)
    # Lookups by type use audit_target_idx (target_type, target_id).
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=100, blank=True)
    target_label = models.CharField(max_length=300, blank=True)
    changes = CanonicalJSONField(default=dict, blank=True)
    context = CanonicalJSONField(default=dict, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.SUCCESS)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    # The exact bytes ``hash`` covers (RFC 8785 text of the fields above). On PostgreSQL a
    # CHECK constraint holds it equal to the columns (migration 0006), so verifying the chain
    # is hashing this text; rows written before it have none and are checked from columns.
    body = models.TextField(null=True, blank=True, editable=False)  # noqa: DJ001 - none before 0006

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_target_idx")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor_label or self.actor_type}"


class ChainHead(models.Model):
    """The last sequence number and hash; its row lock serialises appends to the chain."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"head #{self.seq}"


class ChainVerification(models.Model):
    """A verification of the chain run by a worker (the job-row pattern, see DESIGN.md)."""

    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    requested_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    ok = models.BooleanField(null=True)
    first_seq = models.BigIntegerField(null=True, blank=True)
    last_seq = models.BigIntegerField(null=True, blank=True)
    broken_seq = models.BigIntegerField(null=True, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"verification {self.pk} ({self.status})"


class CheckpointReason(models.TextChoices):
    PERIODIC = "periodic", "Periodic"
    EXPORT = "export", "Export"
    MANUAL = "manual", "Manual"


class Checkpoint(models.Model):
    """A signed statement "the chain had ``head_hash`` at ``seq``", chained to the previous one.

    The signed document (see ``audit.checkpoints.checkpoint_document``) is also published
    outside the database; a rewrite of the chain, even with every later hash recomputed,
    no longer matches a copy held elsewhere. Append-only, like the events.
    """

    seq = models.BigIntegerField(unique=True)
    head_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    prev_checkpoint_hash = models.CharField(max_length=64)
    key_id = models.CharField(max_length=64)
    signature = models.CharField(max_length=200, help_text="Base64 Ed25519 signature")
    checkpoint_hash = models.CharField(max_length=64, unique=True)
    reason = models.CharField(max_length=16, choices=CheckpointReason.choices)

    class Meta:
        ordering = ["-seq"]

    def __str__(self) -> str:
        return f"checkpoint at #{self.seq}"


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    JSONL = "jsonl", "JSON Lines"
    OCSF = "ocsf", "OCSF JSON Lines"
    PDF = "pdf", "PDF report"


class ReportExport(models.Model):
    """An export of (filtered) audit events as a signed bundle, built by a worker."""

    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    format = models.CharField(max_length=8, choices=ExportFormat.choices)
    filters = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done")
    count = models.BigIntegerField(default=0)
    first_seq = models.BigIntegerField(null=True, blank=True)
    last_seq = models.BigIntegerField(null=True, blank=True)
    checkpoint = models.ForeignKey(
        Checkpoint, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    bundle_name = models.CharField(max_length=200, blank=True)
    bundle_sha256 = models.CharField(max_length=64, blank=True)
    bundle_size = models.BigIntegerField(default=0)
    manifest = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("export_auditevent", "Can export and download signed audit reports")]

    def __str__(self) -> str:
        return f"export {self.pk} ({self.format}, {self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)
