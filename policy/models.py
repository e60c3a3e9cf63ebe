"""Policies, the catalogs they read (regions, use cases), deployments, waivers and decisions."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from config.jobs import JobStatus


class Jurisdiction(models.TextChoices):
    EU = "EU", "EU / EEA"
    UK = "UK", "United Kingdom"
    CH = "CH", "Switzerland"
    US = "US", "United States"
    CA = "CA", "Canada"
    BR = "BR", "Brazil"
    JP = "JP", "Japan"
    KR = "KR", "South Korea"
    IN = "IN", "India"
    SG = "SG", "Singapore"
    AU = "AU", "Australia"
    HK = "HK", "Hong Kong"
    CN = "CN", "China"
    AE = "AE", "United Arab Emirates"
    IL = "IL", "Israel"
    ZA = "ZA", "South Africa"
    OTHER = "OTHER", "Other"


class Region(models.Model):
    """Where inference runs: a cloud region or an on-premises site, with its legal facts."""

    class Provider(models.TextChoices):
        AWS = "aws", "AWS"
        AZURE = "azure", "Azure"
        GCP = "gcp", "Google Cloud"
        ON_PREM = "on_prem", "On-premises"

    code = models.CharField(max_length=64, unique=True, help_text="e.g. eu-west-1, westeurope")
    provider = models.CharField(max_length=16, choices=Provider.choices)
    name = models.CharField(max_length=120)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    jurisdiction = models.CharField(max_length=8, choices=Jurisdiction.choices)
    # An EU adequacy decision covers the country (EU/EEA members count as adequate). The US
    # Data Privacy Framework covers certified companies only, so the US is not marked here.
    eu_adequacy = models.BooleanField(default=False)

    class Meta:
        ordering = ["provider", "code"]

    def __str__(self) -> str:
        return self.code

    @property
    def in_eea(self) -> bool:
        """In the EU/EEA: what policy rules read as ``region.in_eea``."""
        return str(self.jurisdiction) == Jurisdiction.EU


class AIActClass(models.TextChoices):
    PROHIBITED = "prohibited", "Prohibited (Art. 5)"
    HIGH = "high", "High risk (Annex III)"
    LIMITED = "limited", "Limited risk (transparency, Art. 50)"
    MINIMAL = "minimal", "Minimal risk"


class UseCase(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=160)
    eu_ai_act_class = models.CharField(max_length=16, choices=AIActClass.choices)
    legal_reference = models.CharField(max_length=120, blank=True, help_text="e.g. Annex III 4(a)")
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.slug


class DataClass(models.TextChoices):
    PUBLIC = "public", "Public"
    INTERNAL = "internal", "Internal"
    CONFIDENTIAL = "confidential", "Confidential"
    PII = "pii", "Personal data (PII)"
    PHI = "phi", "Special category / health (PHI)"
    PCI = "pci", "Payment card data (PCI)"


class Environment(models.TextChoices):
    DEV = "dev", "Development"
    STAGING = "staging", "Staging"
    PROD = "prod", "Production"


class Hosting(models.TextChoices):
    SELF_HOSTED = "self_hosted", "Self-hosted"
    VENDOR_API = "vendor_api", "Vendor API"
    MANAGED = "managed", "Managed (cloud platform)"


class Mode(models.TextChoices):
    ENFORCE = "enforce", "Enforce"
    AUDIT = "audit", "Audit (dry run)"


class Severity(models.TextChoices):
    DENY = "deny", "Deny"
    WARN = "warn", "Warn"


class Verdict(models.TextChoices):
    ALLOW = "allow", "Allow"
    DENY = "deny", "Deny"


class Policy(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=160)
    description = models.TextField(blank=True)
    mode = models.CharField(max_length=8, choices=Mode.choices, default=Mode.ENFORCE)
    active_version = models.ForeignKey(
        "PolicyVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "policies"
        permissions = [("publish_policy", "Can publish policy versions")]

    def __str__(self) -> str:
        return self.slug


class PolicyVersion(models.Model):
    """A set of rules and parameters; immutable once published (``published_at`` set)."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    params = models.JSONField(default=dict, blank=True)
    notes = models.TextField(blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["policy", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "number"], name="unique_policy_version")
        ]

    def __str__(self) -> str:
        return f"{self.policy.slug} v{self.number}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class Rule(models.Model):
    version = models.ForeignKey(PolicyVersion, on_delete=models.CASCADE, related_name="rules")
    rule_id = models.SlugField(max_length=64, help_text="Stable across versions; waivers name it")
    title = models.CharField(max_length=200, blank=True)
    expression = models.TextField(help_text="CEL; must be true for the deployment to comply")
    message = models.TextField(help_text="Shown when the rule fails; {cel} placeholders allowed")
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.DENY)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["version", "position", "rule_id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "rule_id"], name="unique_rule_per_version")
        ]

    def __str__(self) -> str:
        return self.rule_id


class DeploymentStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    BLOCKED = "blocked", "Blocked"


class Deployment(models.Model):
    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200, blank=True)
    model_version = models.ForeignKey(
        "registry.ModelVersion", on_delete=models.PROTECT, related_name="deployments"
    )
    environment = models.CharField(max_length=8, choices=Environment.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="deployments")
    hosting = models.CharField(max_length=16, choices=Hosting.choices)
    use_case = models.ForeignKey(UseCase, on_delete=models.PROTECT, related_name="deployments")
    data_classes = models.JSONField(default=list, blank=True)
    data_subject_region = models.CharField(
        max_length=8, choices=Jurisdiction.choices, default=Jurisdiction.EU
    )
    expected_mau = models.BigIntegerField(null=True, blank=True)
    commercial = models.BooleanField(default=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=8,
        choices=DeploymentStatus.choices,
        default=DeploymentStatus.ACTIVE,
        db_index=True,
    )
    blocked_at = models.DateTimeField(null=True, blank=True)
    last_decision = models.ForeignKey(
        "Decision", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_evaluated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class WaiverStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    REVOKED = "revoked", "Revoked"


class Waiver(models.Model):
    """Excuses one rule for one deployment or one model version, until it expires."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="waivers")
    rule_id = models.SlugField(max_length=64)
    deployment = models.ForeignKey(
        Deployment, on_delete=models.CASCADE, null=True, blank=True, related_name="waivers"
    )
    model_version = models.ForeignKey(
        "registry.ModelVersion",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="waivers",
    )
    justification = models.TextField()
    expires_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=WaiverStatus.choices, default=WaiverStatus.PENDING, db_index=True
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at"]
        permissions = [("decide_waiver", "Can approve or reject waivers")]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(deployment__isnull=False, model_version__isnull=True)
                    | models.Q(deployment__isnull=True, model_version__isnull=False)
                ),
                name="waiver_has_one_subject",
            )
        ]

    def __str__(self) -> str:
        subject = self.deployment or self.model_version
        return f"waiver {self.policy.slug}/{self.rule_id} for {subject}"

    def is_in_force(self, at: datetime | None = None) -> bool:
        return self.status == WaiverStatus.APPROVED and self.expires_at > (at or timezone.now())


class Decision(models.Model):
    """One policy decision, with everything needed to explain it later."""

    decision_id = models.CharField(max_length=40, unique=True)
    deployment = models.ForeignKey(
        Deployment, on_delete=models.SET_NULL, null=True, blank=True, related_name="decisions"
    )
    model_slug = models.CharField(max_length=100, db_index=True)
    version_label = models.CharField(max_length=100, blank=True)
    # Not indexed: two values; lists filter by it while walking the created_at index.
    verdict = models.CharField(max_length=8, choices=Verdict.choices)
    input = models.JSONField()
    violations = models.JSONField(default=list)
    warnings = models.JSONField(default=list)
    waived = models.JSONField(default=list)
    audit_only = models.JSONField(default=list)
    evaluated = models.JSONField(default=list)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=32, help_text="api, web, deployment, reevaluation")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    evaluation_us = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.decision_id


class ReevaluationJob(models.Model):
    """A re-evaluation of deployments run by a worker (job-row pattern, see DESIGN.md)."""

    Status = JobStatus

    reason = models.CharField(max_length=200)
    model_version = models.ForeignKey(
        "registry.ModelVersion", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    evaluated = models.PositiveIntegerField(default=0)
    newly_blocked = models.PositiveIntegerField(default=0)
    newly_allowed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"re-evaluation {self.pk} ({self.status})"
