from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and access"

    def ready(self) -> None:
        # Role groups and their permissions are data derived from code (each app's roles.py);
        # syncing after every migrate keeps them current without hand-written data migrations.
        post_migrate.connect(_sync_roles, dispatch_uid="accounts.sync_roles")
        import accounts.schema  # noqa: F401  (registers the OpenAPI auth extension)


def _sync_roles(sender: AppConfig, **kwargs: object) -> None:
    # post_migrate is sent once per app, and each app's permissions are created by its own
    # signal; only after the last app's signal do all of them exist.
    last = [config for config in apps.get_app_configs() if config.models_module][-1]
    if sender.label != last.label:
        return
    from accounts.roles import sync_role_groups

    sync_role_groups(using=str(kwargs.get("using", "default")))
