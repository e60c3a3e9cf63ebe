from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api import OptionalURLField
from registry.licensing import plain_obligations
from registry.models import (
    Access,
    AIModel,
    Approval,
    EUAIActClass,
    EvalResult,
    EvalSourceKind,
    License,
    LicenseCategory,
    Modality,
    ModelVersion,
    RiskAssessment,
    RiskGrade,
)
from registry.selectors import approval_status
from registry.services import CONDITION_KEYS
from registry.services.catalog import LICENSE_FIELDS

# --- output ------------------------------------------------------------------------------------


class LicenseSerializer(serializers.ModelSerializer[License]):
    acceptable_use_policy_url = OptionalURLField(read_only=True)
    source_url = OptionalURLField(read_only=True)
    obligations_in_plain_words = serializers.SerializerMethodField()
    # Annotated only on the licence list; elsewhere null rather than missing.
    model_count = serializers.SerializerMethodField()

    class Meta:
        model = License
        fields = ["spdx_id", *LICENSE_FIELDS, "obligations_in_plain_words", "model_count"]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_obligations_in_plain_words(self, obj: License) -> list[str]:
        return plain_obligations(obj)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_model_count(self, obj: License) -> int | None:
        return getattr(obj, "model_count", None)


class LicenseBriefSerializer(serializers.ModelSerializer[License]):
    class Meta:
        model = License
        fields = ["spdx_id", "name", "category"]
        read_only_fields = fields


class RiskSerializer(serializers.ModelSerializer[RiskAssessment]):
    # Plain strings: one enum (RiskGrade) under three names would confuse schema clients.
    grade = serializers.CharField(read_only=True, help_text="low, medium, high or critical")
    computed_grade = serializers.CharField(read_only=True)
    override_grade = serializers.CharField(read_only=True, help_text="Empty when not overridden")
    overridden_by = serializers.CharField(
        source="overridden_by.username", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = RiskAssessment
        fields = [
            "eu_ai_act_class",
            "grade",
            "computed_grade",
            "score",
            "factors",
            "override_grade",
            "override_reason",
            "overridden_by",
            "overridden_at",
            "assessed_at",
        ]
        read_only_fields = fields


class ApprovalSerializer(serializers.ModelSerializer[Approval]):
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    decided_by = serializers.CharField(
        source="decided_by.username", read_only=True, allow_null=True, default=None
    )
    revoked_by = serializers.CharField(
        source="revoked_by.username", read_only=True, allow_null=True, default=None
    )
    in_force = serializers.SerializerMethodField()

    class Meta:
        model = Approval
        fields = [
            "id",
            "decision",
            "requested_by",
            "requested_at",
            "justification",
            "decided_by",
            "decided_at",
            "comment",
            "conditions",
            "expires_at",
            "in_force",
            "revoked_by",
            "revoked_at",
            "revoke_reason",
        ]
        read_only_fields = fields

    def get_in_force(self, obj: Approval) -> bool:
        return obj.is_in_force()


class EvalResultSerializer(serializers.ModelSerializer[EvalResult]):
    evidence_url = OptionalURLField(read_only=True)

    class Meta:
        model = EvalResult
        fields = [
            "id",
            "benchmark",
            "metric",
            "value",
            "stderr",
            "n_shot",
            "source_kind",
            "evaluated_on",
            "evidence_url",
            "evidence_file",
            "notes",
            "created_at",
        ]
        read_only_fields = fields


class VersionSerializer(serializers.ModelSerializer[ModelVersion]):
    model = serializers.CharField(source="model.slug", read_only=True)
    usable = serializers.SerializerMethodField()
    approval_status = serializers.SerializerMethodField()
    risk_grade = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.username", read_only=True)

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "model",
            "label",
            "revision",
            "artifact_sha256",
            "release_date",
            "status",
            "usable",
            "approval_status",
            "risk_grade",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields

    def get_usable(self, obj: ModelVersion) -> bool:
        return obj.is_usable()

    def get_approval_status(self, obj: ModelVersion) -> str:
        return approval_status(obj)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_risk_grade(self, obj: ModelVersion) -> str | None:
        try:
            return obj.risk.grade
        except RiskAssessment.DoesNotExist:
            return None


class VersionDetailSerializer(VersionSerializer):
    risk = RiskSerializer(read_only=True, allow_null=True, default=None)
    current_approval = ApprovalSerializer(read_only=True, allow_null=True)
    approvals = ApprovalSerializer(many=True, read_only=True)
    evals = EvalResultSerializer(many=True, read_only=True)

    class Meta(VersionSerializer.Meta):
        fields = [*VersionSerializer.Meta.fields, "risk", "current_approval", "approvals", "evals"]
        read_only_fields = fields


class CurrentVersionSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    label = serializers.CharField()  # type: ignore[assignment]
    status = serializers.CharField()
    risk_grade = serializers.CharField(allow_null=True)
    risk_score = serializers.IntegerField(allow_null=True)


class ModelSerializer(serializers.ModelSerializer[AIModel]):
    license = LicenseBriefSerializer(read_only=True)
    owner_team = serializers.CharField(
        source="owner_team.slug", read_only=True, allow_null=True, default=None
    )
    base_model = serializers.CharField(
        source="base_model.slug", read_only=True, allow_null=True, default=None
    )
    current_version = serializers.SerializerMethodField()
    version_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = AIModel
        fields = [
            "slug",
            "name",
            "provider",
            "provider_jurisdiction",
            "modality",
            "access",
            "license",
            "openness_tier",
            "owner_team",
            "base_model",
            "parameter_count",
            "context_length",
            "current_version",
            "version_count",
        ]
        read_only_fields = fields

    @extend_schema_field(CurrentVersionSerializer(allow_null=True))
    def get_current_version(self, obj: AIModel) -> dict[str, Any] | None:
        version_id = getattr(obj, "current_version_id", None)
        if version_id is None:
            return None
        return {
            "id": version_id,
            "label": obj.current_label,  # type: ignore[attr-defined]
            "status": obj.current_status,  # type: ignore[attr-defined]
            "risk_grade": obj.current_grade,  # type: ignore[attr-defined]
            "risk_score": obj.current_score,  # type: ignore[attr-defined]
        }


class ModelDetailSerializer(ModelSerializer):
    model_card_url = OptionalURLField(read_only=True)
    # Blank until declared (then the class is presumed from training compute).
    eu_ai_act_class = serializers.ChoiceField(
        choices=EUAIActClass.choices, allow_blank=True, read_only=True
    )
    license = LicenseSerializer(read_only=True)  # type: ignore[assignment]
    versions = VersionDetailSerializer(many=True, read_only=True)

    class Meta(ModelSerializer.Meta):
        fields = [
            *ModelSerializer.Meta.fields,
            "description",
            "model_card_url",
            "hf_repo_id",
            "datasets",
            "openness_components",
            "training_compute_flops",
            "eu_ai_act_class",
            "created_at",
            "updated_at",
            "versions",
        ]
        read_only_fields = fields


# --- input -------------------------------------------------------------------------------------


class LicenseWriteSerializer(serializers.Serializer[Any]):
    spdx_id = serializers.CharField(max_length=100)
    name = serializers.CharField(max_length=200)
    category = serializers.ChoiceField(choices=LicenseCategory.choices)
    commercial_use = serializers.BooleanField(default=True)
    attribution_required = serializers.BooleanField(default=False)
    share_alike = serializers.BooleanField(default=False)
    acceptable_use_policy_url = serializers.URLField(required=False, allow_blank=True, default="")
    user_threshold_mau = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=10**15
    )
    territorial_restrictions = serializers.ListField(
        child=serializers.CharField(max_length=8), required=False, default=list
    )
    source_url = serializers.URLField(required=False, allow_blank=True, default="")
    obligations = serializers.ListField(
        child=serializers.CharField(max_length=500), required=False, default=list
    )
    summary = serializers.CharField(required=False, allow_blank=True, default="")


class OpennessComponentsField(serializers.DictField):
    child = serializers.BooleanField()


class ModelWriteSerializer(serializers.Serializer[Any]):
    slug = serializers.SlugField(max_length=100)
    name = serializers.CharField(max_length=200)
    provider = serializers.CharField(max_length=100)
    provider_jurisdiction = serializers.CharField(max_length=8)
    modality = serializers.ChoiceField(choices=Modality.choices, default=Modality.TEXT)
    access = serializers.ChoiceField(choices=Access.choices)
    license = serializers.CharField(max_length=100, help_text="SPDX id/expression or LicenseRef-…")
    owner_team = serializers.SlugField(required=False, allow_null=True)
    base_model = serializers.SlugField(required=False, allow_null=True)
    parameter_count = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=10**15
    )
    context_length = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=2**31 - 1
    )
    model_card_url = serializers.URLField(required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    openness_components = OpennessComponentsField(required=False)
    hf_repo_id = serializers.CharField(required=False, allow_blank=True, max_length=200)
    datasets = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, max_length=200
    )
    training_compute_flops = serializers.FloatField(
        required=False, allow_null=True, min_value=1, max_value=1e35
    )
    eu_ai_act_class = serializers.ChoiceField(
        choices=EUAIActClass.choices, required=False, allow_blank=True
    )


class ModelUpdateSerializer(ModelWriteSerializer):
    slug = None  # type: ignore[assignment]
    owner_team = None  # type: ignore[assignment]
    base_model = None  # type: ignore[assignment]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)


class VersionWriteSerializer(serializers.Serializer[Any]):
    label = serializers.CharField(max_length=100)  # type: ignore[assignment]
    revision = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    artifact_sha256 = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default=""
    )
    release_date = serializers.DateField(required=False, allow_null=True, default=None)


class SubmitSerializer(serializers.Serializer[Any]):
    justification = serializers.CharField(required=False, allow_blank=True, default="")


class ConditionsSerializer(serializers.Serializer[Any]):
    environments = serializers.ListField(child=serializers.CharField(), required=False)
    regions = serializers.ListField(child=serializers.CharField(), required=False)
    jurisdictions = serializers.ListField(child=serializers.CharField(), required=False)
    data_classes = serializers.ListField(child=serializers.CharField(), required=False)
    use_cases = serializers.ListField(child=serializers.CharField(), required=False)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(CONDITION_KEYS))
            if unknown:
                raise serializers.ValidationError(
                    f"Unknown condition(s): {', '.join(unknown)}. Known: {', '.join(CONDITION_KEYS)}."
                )
        return super().to_internal_value(data)


class ApproveSerializer(serializers.Serializer[Any]):
    conditions = ConditionsSerializer(required=False)
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class CommentSerializer(serializers.Serializer[Any]):
    comment = serializers.CharField(help_text="Why: shown to the requester.")


class ReasonSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField()


class DeprecateSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class RiskOverrideSerializer(serializers.Serializer[Any]):
    grade = serializers.ChoiceField(
        choices=RiskGrade.choices, allow_blank=True, help_text="Empty clears the override."
    )
    justification = serializers.CharField()


class EvalWriteSerializer(serializers.Serializer[Any]):
    benchmark = serializers.CharField(max_length=100)
    metric = serializers.CharField(max_length=50)
    value = serializers.FloatField(min_value=-1e12, max_value=1e12)
    n_shot = serializers.IntegerField(required=False, allow_null=True, min_value=0, default=None)
    source_kind = serializers.ChoiceField(
        choices=EvalSourceKind.choices, default=EvalSourceKind.INTERNAL
    )
    evaluated_on = serializers.DateField(required=False, allow_null=True, default=None)
    evidence_url = serializers.URLField(required=False, allow_blank=True, default="")
    stderr = serializers.FloatField(
        required=False, allow_null=True, default=None, min_value=0, max_value=1e12
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)


class LmEvalUploadSerializer(serializers.Serializer[Any]):
    file = serializers.FileField(help_text="An lm-evaluation-harness results_*.json file")


class CardImportSerializer(serializers.Serializer[Any]):
    content = serializers.CharField(
        required=False, allow_blank=True, help_text="The README.md with YAML front matter"
    )
    file = serializers.FileField(required=False, help_text="Or upload the README.md")
    hf_repo_id = serializers.CharField(required=False, allow_blank=True, default="")
    slug = serializers.SlugField(required=False, allow_blank=True)
    name = serializers.CharField(required=False, allow_blank=True)
    provider = serializers.CharField(required=False, allow_blank=True)
    provider_jurisdiction = serializers.CharField(required=False, allow_blank=True)
    license = serializers.CharField(required=False, allow_blank=True)
    owner_team = serializers.SlugField(required=False, allow_blank=True)
    version_label = serializers.CharField(required=False, allow_blank=True, default="")
    dry_run = serializers.BooleanField(
        default=False, help_text="Only parse and return the preview; save nothing."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("content") and not attrs.get("file"):
            raise serializers.ValidationError({"content": ["Give the card as content or file."]})
        return attrs


class EvalPreviewSerializer(serializers.Serializer[Any]):
    benchmark = serializers.CharField()
    metric = serializers.CharField()
    value = serializers.FloatField(min_value=-1e12, max_value=1e12)
    n_shot = serializers.IntegerField(allow_null=True)
    source_kind = serializers.CharField()
    evidence_url = serializers.CharField()
    notes = serializers.CharField()


class CardPreviewSerializer(serializers.Serializer[Any]):
    hf_repo_id = serializers.CharField()
    slug = serializers.CharField()
    name = serializers.CharField()
    provider = serializers.CharField()
    provider_jurisdiction = serializers.CharField()
    modality = serializers.CharField()
    license_id = serializers.CharField(allow_null=True)
    license_raw = serializers.CharField()
    license_known = serializers.BooleanField()
    base_model_repo = serializers.CharField()
    base_model_slug = serializers.CharField(allow_null=True)
    datasets = serializers.ListField(child=serializers.CharField())
    model_card_url = serializers.CharField()
    evals = EvalPreviewSerializer(many=True)
    warnings = serializers.ListField(child=serializers.CharField())


class CardImportResultSerializer(serializers.Serializer[Any]):
    preview = CardPreviewSerializer()
    model = ModelDetailSerializer(allow_null=True)
    version_id = serializers.IntegerField(allow_null=True)


class CompareSerializer(serializers.Serializer[Any]):
    versions = VersionDetailSerializer(many=True)
    rows = serializers.ListField(child=serializers.DictField())


class ApprovalQueueItemSerializer(VersionSerializer):
    pending_approval = serializers.SerializerMethodField()
    may_decide = serializers.SerializerMethodField()

    class Meta(VersionSerializer.Meta):
        fields = [*VersionSerializer.Meta.fields, "pending_approval", "may_decide"]
        read_only_fields = fields

    @extend_schema_field(ApprovalSerializer(allow_null=True))
    def get_pending_approval(self, obj: ModelVersion) -> dict[str, Any] | None:
        pending = getattr(obj, "pending_approvals", [])
        return ApprovalSerializer(pending[0]).data if pending else None

    def get_may_decide(self, obj: ModelVersion) -> bool:
        rights = self.context.get("rights")
        pending = getattr(obj, "pending_approvals", [])
        if rights is None or not pending:
            return False
        return (
            bool(rights.may_decide(obj.model_id)) and pending[0].requested_by_id != rights.user.pk
        )
