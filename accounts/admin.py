from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import ApiToken, Team, User


@admin.register(User)
class StewardUserAdmin(UserAdmin):
    list_display = ("username", "email", "is_service_account", "is_active", "is_superuser")
    fieldsets = (*UserAdmin.fieldsets, ("Steward", {"fields": ("is_service_account",)}))  # type: ignore[misc]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("slug", "name")
    filter_horizontal = ("members",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created through the UI or the command, so the secret is shown once."""

    list_display = (
        "name",
        "user",
        "key_id",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    )
    readonly_fields = [f.name for f in ApiToken._meta.fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
