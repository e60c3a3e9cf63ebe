from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        # accounts syncs role groups when *its* post_migrate runs, before Django has created
        # this app's permissions on a fresh database; sync again once they exist.
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="audit.sync_roles")


def _sync_roles(sender: AppConfig, **kwargs: object) -> None:
    from accounts.roles import sync_role_groups

    sync_role_groups(using=str(kwargs.get("using", "default")))
