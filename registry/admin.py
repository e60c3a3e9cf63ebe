from django.contrib import admin
from guardian.admin import GuardedModelAdmin

from registry.models import AIModel, Approval, EvalResult, License, ModelVersion, RiskAssessment


@admin.register(License)
class LicenseAdmin(admin.ModelAdmin):
    list_display = ["spdx_id", "name", "category", "commercial_use", "user_threshold_mau"]
    list_filter = ["category"]
    search_fields = ["spdx_id", "name"]


@admin.register(AIModel)
class AIModelAdmin(GuardedModelAdmin):
    """Object permissions (Object permissions button) scope approvers per model."""

    list_display = ["slug", "name", "provider", "access", "license", "openness_tier", "owner_team"]
    list_filter = ["provider", "access", "openness_tier"]
    search_fields = ["slug", "name", "provider"]
    readonly_fields = ["openness_tier"]


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["model", "label", "status", "release_date"]
    list_filter = ["status"]
    # State changes go through the services (audited, separation of duties).
    readonly_fields = ["status", "current_approval", "created_by"]


@admin.register(Approval)
class ApprovalAdmin(admin.ModelAdmin):
    list_display = ["version", "decision", "requested_by", "decided_by", "expires_at"]
    list_filter = ["decision"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False


@admin.register(EvalResult)
class EvalResultAdmin(admin.ModelAdmin):
    list_display = ["version", "benchmark", "metric", "value", "source_kind"]
    list_filter = ["source_kind", "benchmark"]


@admin.register(RiskAssessment)
class RiskAssessmentAdmin(admin.ModelAdmin):
    list_display = ["version", "eu_ai_act_class", "computed_grade", "override_grade", "score"]
    readonly_fields = ["computed_grade", "score", "factors"]
