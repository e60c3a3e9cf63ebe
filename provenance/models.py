"""Provenance: the credentials Steward signs with, and one row per file it signs."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from config.jobs import JobStatus


class SigningAlgorithm(models.TextChoices):
    ES256 = "ES256", "ECDSA P-256 / SHA-256"
    ES384 = "ES384", "ECDSA P-384 / SHA-384"
    PS256 = "PS256", "RSASSA-PSS / SHA-256"
    ED25519 = "Ed25519", "Ed25519"


class SigningCredential(models.Model):
    """A certificate chain and a *reference* to its private key.

    The key never enters the database: ``key_reference`` is ``file:/path/to/key.pem`` or
    ``env:VARIABLE_NAME`` (the variable holds the PEM). Signing goes through a callback, so a
    KMS/HSM reference scheme can be added in ``provenance.keys`` without touching callers.
    """

    name = models.CharField(max_length=100, unique=True)
    algorithm = models.CharField(max_length=10, choices=SigningAlgorithm.choices)
    certificate_chain = models.TextField(help_text="PEM: the leaf first, then intermediates")
    trust_anchor = models.TextField(
        blank=True, help_text="PEM of the root CA verifiers should trust (optional)"
    )
    key_reference = models.CharField(max_length=500)
    subject = models.CharField(max_length=500)
    issuer = models.CharField(max_length=500)
    fingerprint_sha256 = models.CharField(max_length=64, unique=True)
    not_before = models.DateTimeField()
    not_after = models.DateTimeField()
    is_active = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_active", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"],
                condition=models.Q(is_active=True),
                name="one_active_signing_credential",
            )
        ]

    def __str__(self) -> str:
        return self.name


class ManifestMode(models.TextChoices):
    EMBEDDED = "embedded", "Embedded in the file"
    SIDECAR = "sidecar", "Sidecar .c2pa file"


class TrainingMining(models.TextChoices):
    """CAWG training-and-data-mining ``use`` values."""

    NOT_ALLOWED = "notAllowed", "Not allowed"
    ALLOWED = "allowed", "Allowed"
    CONSTRAINED = "constrained", "Constrained"


class SigningJob(models.Model):
    """One file to sign. ``manifest_file`` keeps the raw manifest store Steward issued
    (a ``.c2pa`` JUMBF), ``manifest_json`` its reading: Steward keeps every manifest."""

    batch = models.UUIDField(null=True, blank=True, db_index=True)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signing_jobs"
    )
    model_version = models.ForeignKey(
        "registry.ModelVersion", on_delete=models.PROTECT, related_name="signing_jobs"
    )
    # policy.Deployment is not available to this app yet: a free reference (slug or id).
    deployment_ref = models.CharField(max_length=200, blank=True)
    credential = models.ForeignKey(
        SigningCredential, on_delete=models.PROTECT, null=True, blank=True, related_name="jobs"
    )
    input_file = models.FileField(upload_to="provenance/input/%Y/%m/", max_length=300)
    input_name = models.CharField(max_length=255)
    input_size = models.BigIntegerField()
    input_sha256 = models.CharField(max_length=64, db_index=True)
    mime_type = models.CharField(max_length=100)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    # {"training_mining": "notAllowed", "watermark": true, "embed": true}
    options = models.JSONField(default=dict, blank=True)
    # Indexed by prov_job_sweep_idx (status first): a second index of its own only cost
    # every claim and finish an index update.
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    output_file = models.FileField(upload_to="provenance/output/%Y/%m/", blank=True, max_length=300)
    output_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    output_size = models.BigIntegerField(null=True, blank=True)
    manifest_mode = models.CharField(max_length=16, choices=ManifestMode.choices, blank=True)
    manifest_label = models.CharField(max_length=200, blank=True, db_index=True)
    manifest_file = models.FileField(
        upload_to="provenance/manifests/%Y/%m/", blank=True, max_length=300
    )
    manifest_json = models.JSONField(null=True, blank=True)
    # 64-bit id carried by the invisible watermark, as 16 hex digits (unsigned, no sign games).
    watermark_id = models.CharField(max_length=16, null=True, blank=True, unique=True)
    watermark_algorithm = models.CharField(max_length=50, blank=True)
    watermark_note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # {"watermark_ms": .., "sign_ms": .., "total_ms": ..}
    timings = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "enqueued_at"], name="prov_job_sweep_idx")]

    def __str__(self) -> str:
        return f"signing job {self.pk} ({self.input_name})"

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)
