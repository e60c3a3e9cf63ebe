from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ProvenanceConfig(AppConfig):
    name = "provenance"

    def ready(self) -> None:
        # accounts syncs the role groups on its own post_migrate, before this app's
        # permissions exist on a fresh database; sync again once they do.
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="provenance.sync_roles")


def _sync_roles(sender: AppConfig, **kwargs: object) -> None:
    from accounts.roles import sync_role_groups

    sync_role_groups(using=str(kwargs.get("using", "default")))
