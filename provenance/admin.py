from django.contrib import admin

from provenance.models import SigningCredential, SigningJob


@admin.register(SigningCredential)
class SigningCredentialAdmin(admin.ModelAdmin):
    """Read-only: credentials are registered through provenance services (which check them)."""

    list_display = ["name", "algorithm", "subject", "not_after", "is_active"]
    readonly_fields = [f.name for f in SigningCredential._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(SigningJob)
class SigningJobAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "input_name",
        "mime_type",
        "status",
        "model_version",
        "requester",
        "created_at",
    ]
    list_filter = ["status", "manifest_mode", "mime_type"]
    readonly_fields = [f.name for f in SigningJob._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
