"""The model registry: what models exist, under which licence, how open, how good, how risky,
and who approved which version for what."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone


class LicenseCategory(models.TextChoices):
    PERMISSIVE = "permissive", "Permissive"
    COPYLEFT = "copyleft", "Copyleft"
    OPEN_WEIGHTS_RESTRICTED = "open_weights_restricted", "Open weights with use restrictions"
    RAIL = "rail", "Responsible AI licence (RAIL)"
    NON_COMMERCIAL = "non_commercial", "Non-commercial"
    PROPRIETARY_API = "proprietary_api", "Proprietary API terms"


class License(models.Model):
    """A licence and its obligations, as data a policy can read."""

    spdx_id = models.CharField(
        max_length=100, unique=True, help_text="SPDX id or expression, or LicenseRef-…"
    )
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=32, choices=LicenseCategory.choices)
    commercial_use = models.BooleanField(default=True)
    attribution_required = models.BooleanField(default=False)
    share_alike = models.BooleanField(default=False)
    acceptable_use_policy_url = models.URLField(blank=True)
    # e.g. Llama's "700 million monthly active users" clause.
    user_threshold_mau = models.BigIntegerField(null=True, blank=True)
    # Jurisdictions where use is restricted (e.g. ["EU"] for multimodal Llama 3.2).
    territorial_restrictions = models.JSONField(default=list, blank=True)
    source_url = models.URLField(blank=True)
    # Plain-words obligations shown to approvers, one sentence each.
    obligations = models.JSONField(default=list, blank=True)
    summary = models.TextField(blank=True)

    class Meta:
        ordering = ["spdx_id"]

    def __str__(self) -> str:
        return self.spdx_id


class Modality(models.TextChoices):
    TEXT = "text", "Text"
    CODE = "code", "Code"
    VISION_LANGUAGE = "vision_language", "Vision-language"
    IMAGE = "image", "Image"
    AUDIO = "audio", "Audio"
    EMBEDDING = "embedding", "Embedding"


class Access(models.TextChoices):
    CLOSED_API = "closed_api", "Closed API"
    OPEN_WEIGHTS = "open_weights", "Open weights"
    HOSTED_OPEN = "hosted_open", "Hosted open model"


class OpennessTier(models.TextChoices):
    """Model Openness Framework classes, plus the two tiers below them."""

    CLASS_I = "class_i", "Class I — open science"
    CLASS_II = "class_ii", "Class II — open tooling"
    CLASS_III = "class_iii", "Class III — open model"
    OPEN_WEIGHTS_ONLY = "open_weights_only", "Open weights only"
    CLOSED = "closed", "Closed / API only"


class EUAIActClass(models.TextChoices):
    GPAI = "gpai", "General-purpose AI model"
    GPAI_SYSTEMIC = "gpai_systemic", "GPAI with systemic risk"
    NOT_GPAI = "not_gpai", "Not a general-purpose AI model"


class AIModel(models.Model):
    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    provider = models.CharField(max_length=100, db_index=True)
    provider_jurisdiction = models.CharField(
        max_length=8, help_text="ISO 3166 country code or EU, e.g. US, FR, CN"
    )
    modality = models.CharField(max_length=20, choices=Modality.choices, default=Modality.TEXT)
    access = models.CharField(max_length=20, choices=Access.choices)
    license = models.ForeignKey(License, on_delete=models.PROTECT, related_name="models")
    base_model = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="derivatives"
    )
    parameter_count = models.BigIntegerField(null=True, blank=True)
    context_length = models.PositiveIntegerField(null=True, blank=True)
    model_card_url = models.URLField(blank=True)
    owner_team = models.ForeignKey(
        "accounts.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="models"
    )
    description = models.TextField(blank=True)
    # Model Openness Framework component checklist: {"weights": true, "datasets": false, ...}
    openness_components = models.JSONField(default=dict, blank=True)
    openness_tier = models.CharField(
        max_length=20, choices=OpennessTier.choices, default=OpennessTier.CLOSED
    )
    # Hugging Face repository id ("meta-llama/Llama-3.1-8B-Instruct"): how imported model
    # cards find their base model in the registry.
    hf_repo_id = models.CharField(max_length=200, blank=True, db_index=True)
    # Training datasets the provider names (HF dataset ids or plain names).
    datasets = models.JSONField(default=list, blank=True)
    # Estimated training compute; the EU AI Act presumes systemic risk above 10^25 FLOP.
    training_compute_flops = models.FloatField(null=True, blank=True)
    # The provider's or the AI Office's classification; blank = derived (see registry.risk).
    eu_ai_act_class = models.CharField(max_length=20, choices=EUAIActClass.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        permissions = [("approve_aimodel", "Can decide approvals of this model's versions")]

    def __str__(self) -> str:
        return self.name


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    DEPRECATED = "deprecated", "Deprecated"
    REVOKED = "revoked", "Revoked"


class ModelVersion(models.Model):
    model = models.ForeignKey(AIModel, on_delete=models.CASCADE, related_name="versions")
    label = models.CharField(max_length=100, help_text="e.g. 2024-07-23 or 3.1")
    revision = models.CharField(
        max_length=200, blank=True, help_text="Commit sha or API snapshot id"
    )
    artifact_sha256 = models.CharField(max_length=64, blank=True)
    release_date = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=VersionStatus.choices, default=VersionStatus.DRAFT, db_index=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # The approval in force (set when approved; cleared on revoke/deprecate).
    current_approval = models.ForeignKey(
        "Approval", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["model__name", "-release_date", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["model", "label"], name="unique_version_label")
        ]

    def __str__(self) -> str:
        return f"{self.model.name} {self.label}"

    def is_usable(self, at: datetime | None = None) -> bool:
        """Approved, and the approval has not expired. Expiry needs no job to take effect."""
        if self.status != VersionStatus.APPROVED or self.current_approval is None:
            return False
        return self.current_approval.is_in_force(at)


class Decision(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    REVOKED = "revoked", "Revoked"


# What an approval's conditions may restrict (an empty list: no restriction).
CONDITION_KEYS = ("environments", "regions", "jurisdictions", "data_classes", "use_cases")


class Approval(models.Model):
    """One request for approval of a version and its decision.

    ``conditions``: {"environments": [...], "regions": [...], "jurisdictions": [...],
    "data_classes": [...], "use_cases": [...]}; an empty or missing list means no restriction.
    """

    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="approvals")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    justification = models.TextField(blank=True)
    decision = models.CharField(
        max_length=20, choices=Decision.choices, default=Decision.PENDING, db_index=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True)
    conditions = models.JSONField(default=dict, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.TextField(blank=True)
    # Set once by the expiry sweep, so ``model_version.approval_expired`` is recorded once.
    expiry_recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.version} — {self.decision}"

    def is_in_force(self, at: datetime | None = None) -> bool:
        if self.decision != Decision.APPROVED:
            return False
        return self.expires_at is None or self.expires_at > (at or timezone.now())


class EvalSourceKind(models.TextChoices):
    VENDOR = "vendor_reported", "Vendor-reported"
    LEADERBOARD = "independent_leaderboard", "Independent leaderboard"
    INTERNAL = "internal_run", "Internal run"


class EvalResult(models.Model):
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="evals")
    benchmark = models.CharField(max_length=100, db_index=True, help_text="e.g. mmlu, humaneval")
    metric = models.CharField(max_length=50, help_text="e.g. acc, pass@1")
    value = models.FloatField(help_text="0–100 for percentages")
    n_shot = models.PositiveSmallIntegerField(null=True, blank=True)
    source_kind = models.CharField(max_length=32, choices=EvalSourceKind.choices)
    evaluated_on = models.DateField(null=True, blank=True)
    evidence_url = models.URLField(blank=True)
    evidence_file = models.FileField(upload_to="evals/%Y/%m/", blank=True)
    stderr = models.FloatField(null=True, blank=True, help_text="Standard error, same unit")
    notes = models.CharField(max_length=300, blank=True, help_text="Dataset config, filter...")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["benchmark", "metric"]

    def __str__(self) -> str:
        return f"{self.benchmark} {self.metric}={self.value}"


class RiskGrade(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


RISK_GRADE_ORDER = {RiskGrade.LOW: 0, RiskGrade.MEDIUM: 1, RiskGrade.HIGH: 2, RiskGrade.CRITICAL: 3}


class RiskAssessment(models.Model):
    """The version's current risk picture. ``factors``: [{"factor", "value", "points", "why"}]."""

    version = models.OneToOneField(ModelVersion, on_delete=models.CASCADE, related_name="risk")
    eu_ai_act_class = models.CharField(max_length=20, choices=EUAIActClass.choices)
    computed_grade = models.CharField(max_length=10, choices=RiskGrade.choices)
    score = models.IntegerField(default=0)
    factors = models.JSONField(default=list, blank=True)
    override_grade = models.CharField(max_length=10, choices=RiskGrade.choices, blank=True)
    override_reason = models.TextField(blank=True)
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    overridden_at = models.DateTimeField(null=True, blank=True)
    assessed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.version}: {self.grade}"

    @property
    def grade(self) -> str:
        return self.override_grade or self.computed_grade
