from __future__ import annotations

import copy
from typing import Any

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from policy.models import (
    DataClass,
    Decision,
    Deployment,
    Environment,
    Hosting,
    Jurisdiction,
    Mode,
    Policy,
    PolicyVersion,
    Region,
    Rule,
    Severity,
    UseCase,
    Waiver,
)
from policy.services.deployments import MAX_EXPECTED_MAU


class CheckRequestSerializer(serializers.Serializer[None]):
    """Either ``deployment`` (id or slug of a registered deployment) or an inline spec."""

    deployment = serializers.CharField(required=False, max_length=100)
    model = serializers.CharField(required=False, max_length=100)
    version = serializers.CharField(
        required=False, max_length=100, help_text="Default: the latest approved version"
    )
    environment = serializers.ChoiceField(choices=Environment.choices, required=False)
    region = serializers.CharField(required=False, max_length=64)
    use_case = serializers.CharField(required=False, max_length=64)
    data_classification = serializers.ListField(
        child=serializers.CharField(max_length=32), required=False, max_length=len(DataClass)
    )
    hosting = serializers.ChoiceField(
        choices=Hosting.choices,
        required=False,
        help_text="Default: vendor_api for closed API models, else self_hosted",
    )
    data_subject_region = serializers.ChoiceField(
        choices=Jurisdiction.choices, required=False, default=Jurisdiction.EU
    )
    expected_mau = serializers.IntegerField(
        required=False, min_value=0, allow_null=True, max_value=MAX_EXPECTED_MAU
    )
    commercial = serializers.BooleanField(required=False, default=True)

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        # DRF deep-copies every declared field for each instance (a fifth of a check's time
        # here). These fields hold no per-request state, so shallow copies (bound to this
        # instance by DRF as usual) validate identically.
        return {name: copy.copy(field) for name, field in self._declared_fields.items()}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("deployment"):
            return attrs
        missing = [f for f in ("model", "environment", "region") if not attrs.get(f)]
        if missing:
            raise serializers.ValidationError(
                {f: ["Required unless 'deployment' is given."] for f in missing}
            )
        return attrs


class FindingSerializer(serializers.Serializer[None]):
    policy = serializers.CharField()
    policy_version = serializers.IntegerField()
    rule = serializers.CharField()
    severity = serializers.ChoiceField(choices=Severity.choices)
    message = serializers.CharField()
    error = serializers.CharField(required=False, help_text="Set when the rule failed to evaluate")


class EvaluatedSerializer(serializers.Serializer[None]):
    policy = serializers.CharField()
    version = serializers.IntegerField()
    sha256 = serializers.CharField()
    mode = serializers.ChoiceField(choices=Mode.choices)


class CheckResponseSerializer(serializers.Serializer[None]):
    decision = serializers.ChoiceField(choices=["allow", "deny"])
    decision_id = serializers.CharField()
    violations = FindingSerializer(many=True)
    warnings = FindingSerializer(many=True)
    waived = FindingSerializer(many=True)
    audit_only = FindingSerializer(many=True)
    evaluated = EvaluatedSerializer(many=True)


def decision_response(decision: Decision) -> dict[str, Any]:
    return {
        "decision": decision.verdict,
        "decision_id": decision.decision_id,
        "violations": decision.violations,
        "warnings": decision.warnings,
        "waived": decision.waived,
        "audit_only": decision.audit_only,
        "evaluated": decision.evaluated,
    }


class DecisionSerializer(serializers.ModelSerializer[Decision]):
    decision = serializers.CharField(source="verdict")
    deployment = serializers.CharField(
        source="deployment.slug", read_only=True, allow_null=True, default=None
    )
    violations = FindingSerializer(many=True)
    warnings = FindingSerializer(many=True)
    waived = FindingSerializer(many=True)
    audit_only = FindingSerializer(many=True)
    evaluated = EvaluatedSerializer(many=True)
    input = serializers.DictField(help_text="The input document the rules saw")

    class Meta:
        model = Decision
        fields = [
            "decision_id",
            "decision",
            "deployment",
            "model_slug",
            "version_label",
            "violations",
            "warnings",
            "waived",
            "audit_only",
            "evaluated",
            "input",
            "actor_label",
            "source",
            "created_at",
            "evaluation_us",
        ]
        read_only_fields = fields


class PingSerializer(serializers.Serializer[None]):
    ok = serializers.BooleanField()


class RuleSerializer(serializers.ModelSerializer[Rule]):
    class Meta:
        model = Rule
        fields = ["rule_id", "title", "expression", "message", "severity", "position"]


class RuleWriteSerializer(serializers.Serializer[None]):
    rule_id = serializers.CharField(max_length=64)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    expression = serializers.CharField(max_length=20000)
    message = serializers.CharField(max_length=5000)
    severity = serializers.ChoiceField(choices=Severity.choices, default=Severity.DENY)
    position = serializers.IntegerField(required=False, min_value=0, max_value=100000)


class RuleUpdateSerializer(serializers.Serializer[None]):
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    expression = serializers.CharField(max_length=20000, required=False)
    message = serializers.CharField(max_length=5000, required=False)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)


class PolicyVersionSerializer(serializers.ModelSerializer[PolicyVersion]):
    policy = serializers.CharField(
        source="policy.slug", read_only=True, allow_null=True, default=None
    )
    rules = RuleSerializer(many=True, read_only=True)
    status = serializers.SerializerMethodField()
    created_by = serializers.CharField(
        source="created_by.username", read_only=True, allow_null=True, default=None
    )
    published_by = serializers.CharField(
        source="published_by.username", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = PolicyVersion
        fields = [
            "policy",
            "number",
            "status",
            "sha256",
            "params",
            "notes",
            "rules",
            "created_by",
            "created_at",
            "published_by",
            "published_at",
        ]
        read_only_fields = fields

    def get_status(self, obj: PolicyVersion) -> str:
        return "published" if obj.is_published else "draft"


class VersionCreateSerializer(serializers.Serializer[None]):
    from_version = serializers.IntegerField(
        required=False, min_value=1, help_text="Copy this version (default: the active one)"
    )
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class VersionUpdateSerializer(serializers.Serializer[None]):
    params = serializers.DictField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000)


class PolicySerializer(serializers.ModelSerializer[Policy]):
    active_version = serializers.IntegerField(
        source="active_version.number", read_only=True, allow_null=True, default=None
    )
    active_sha256 = serializers.CharField(
        source="active_version.sha256", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Policy
        fields = [
            "slug",
            "name",
            "description",
            "mode",
            "active_version",
            "active_sha256",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["active_version", "active_sha256", "created_at", "updated_at"]


class PolicyCreateSerializer(serializers.Serializer[None]):
    slug = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=160)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    mode = serializers.ChoiceField(choices=Mode.choices, default=Mode.ENFORCE)


class PolicyUpdateSerializer(serializers.Serializer[None]):
    name = serializers.CharField(max_length=160, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    mode = serializers.ChoiceField(choices=Mode.choices, required=False)


DiffSerializer = inline_serializer(
    "PolicyVersionDiff",
    fields={
        "from": serializers.IntegerField(),
        "to": serializers.IntegerField(),
        "params": serializers.ListField(child=serializers.DictField()),
        "added": serializers.ListField(child=serializers.CharField()),
        "removed": serializers.ListField(child=serializers.CharField()),
        "changed": serializers.ListField(child=serializers.DictField()),
        "unified": serializers.ListField(child=serializers.CharField()),
    },
)


class SimulationResultSerializer(serializers.Serializer[None]):
    deployment = serializers.CharField()
    model = serializers.CharField()
    version = serializers.CharField()
    before = serializers.CharField()
    after = serializers.CharField()
    change = serializers.ChoiceField(choices=["newly_denied", "newly_allowed", "changed"])
    violations = FindingSerializer(many=True)
    resolved = serializers.ListField(child=serializers.CharField())


class SimulationSerializer(serializers.Serializer[None]):
    policy = serializers.CharField()
    version = serializers.IntegerField()
    sha256 = serializers.CharField()
    mode = serializers.CharField()
    deployments = serializers.IntegerField()
    newly_denied = serializers.IntegerField()
    newly_allowed = serializers.IntegerField()
    changed = serializers.IntegerField()
    results = SimulationResultSerializer(many=True)


class DeploymentSerializer(serializers.ModelSerializer[Deployment]):
    model = serializers.CharField(source="model_version.model.slug", read_only=True)
    version = serializers.CharField(source="model_version.label", read_only=True)
    region = serializers.CharField(source="region.code", read_only=True)
    use_case = serializers.CharField(source="use_case.slug", read_only=True)
    owner = serializers.CharField(source="owner.username", read_only=True)
    team = serializers.CharField(source="team.slug", read_only=True, allow_null=True, default=None)
    last_decision = serializers.CharField(
        source="last_decision.decision_id", read_only=True, allow_null=True, default=None
    )
    last_verdict = serializers.CharField(
        source="last_decision.verdict", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Deployment
        fields = [
            "id",
            "slug",
            "name",
            "model",
            "version",
            "environment",
            "region",
            "hosting",
            "use_case",
            "data_classes",
            "data_subject_region",
            "expected_mau",
            "commercial",
            "owner",
            "team",
            "status",
            "blocked_at",
            "last_decision",
            "last_verdict",
            "last_evaluated_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class DeploymentWriteSerializer(serializers.Serializer[None]):
    slug = serializers.CharField(max_length=100)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    model = serializers.CharField(max_length=100)
    version = serializers.CharField(max_length=100, required=False)
    environment = serializers.ChoiceField(choices=Environment.choices)
    region = serializers.CharField(max_length=64)
    hosting = serializers.ChoiceField(choices=Hosting.choices)
    use_case = serializers.CharField(max_length=64)
    data_classes = serializers.ListField(
        child=serializers.CharField(max_length=32), required=False, default=list, max_length=6
    )
    data_subject_region = serializers.ChoiceField(
        choices=Jurisdiction.choices, default=Jurisdiction.EU
    )
    expected_mau = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=MAX_EXPECTED_MAU
    )
    commercial = serializers.BooleanField(required=False, default=True)
    team = serializers.SlugField(
        max_length=64,
        required=False,
        help_text="Slug of the deployment's team: one of yours (any team for an admin). "
        "Required when you belong to several teams; defaults to your only team.",
    )


class DeploymentUpdateSerializer(serializers.Serializer[None]):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    model = serializers.CharField(max_length=100, required=False)
    version = serializers.CharField(max_length=100, required=False)
    environment = serializers.ChoiceField(choices=Environment.choices, required=False)
    region = serializers.CharField(max_length=64, required=False)
    hosting = serializers.ChoiceField(choices=Hosting.choices, required=False)
    use_case = serializers.CharField(max_length=64, required=False)
    data_classes = serializers.ListField(
        child=serializers.CharField(max_length=32), required=False, max_length=6
    )
    data_subject_region = serializers.ChoiceField(choices=Jurisdiction.choices, required=False)
    expected_mau = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=MAX_EXPECTED_MAU
    )
    commercial = serializers.BooleanField(required=False)


class WaiverSerializer(serializers.ModelSerializer[Waiver]):
    policy = serializers.CharField(
        source="policy.slug", read_only=True, allow_null=True, default=None
    )
    deployment = serializers.CharField(
        source="deployment.slug", read_only=True, allow_null=True, default=None
    )
    model = serializers.CharField(
        source="model_version.model.slug", read_only=True, allow_null=True, default=None
    )
    version = serializers.CharField(
        source="model_version.label", read_only=True, allow_null=True, default=None
    )
    requested_by = serializers.CharField(
        source="requested_by.username", read_only=True, allow_null=True, default=None
    )
    decided_by = serializers.CharField(
        source="decided_by.username", read_only=True, allow_null=True, default=None
    )
    in_force = serializers.SerializerMethodField()

    class Meta:
        model = Waiver
        fields = [
            "id",
            "policy",
            "rule_id",
            "deployment",
            "model",
            "version",
            "justification",
            "expires_at",
            "status",
            "in_force",
            "requested_by",
            "requested_at",
            "decided_by",
            "decided_at",
            "comment",
        ]
        read_only_fields = fields

    def get_in_force(self, obj: Waiver) -> bool:
        return obj.is_in_force()


class WaiverCreateSerializer(serializers.Serializer[None]):
    policy = serializers.CharField(max_length=64)
    rule_id = serializers.CharField(max_length=64)
    deployment = serializers.CharField(max_length=100, required=False)
    model = serializers.CharField(max_length=100, required=False)
    version = serializers.CharField(max_length=100, required=False)
    justification = serializers.CharField(max_length=5000)
    expires_at = serializers.DateTimeField()


class WaiverDecisionSerializer(serializers.Serializer[None]):
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class RegionSerializer(serializers.ModelSerializer[Region]):
    jurisdiction = serializers.CharField(help_text="EU (EU/EEA), UK, CH, US, CA, JP, CN, ...")
    in_eea = serializers.BooleanField(
        read_only=True,
        help_text="In the EU/EEA (jurisdiction EU): the policy input document's region.in_eea",
    )

    class Meta:
        model = Region
        fields = ["code", "provider", "name", "country", "jurisdiction", "in_eea", "eu_adequacy"]


class UseCaseSerializer(serializers.ModelSerializer[UseCase]):
    class Meta:
        model = UseCase
        fields = ["slug", "name", "eu_ai_act_class", "legal_reference", "description"]
