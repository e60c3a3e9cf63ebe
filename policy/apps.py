from django.apps import AppConfig
from django.db.models.signals import post_migrate


class PolicyConfig(AppConfig):
    name = "policy"

    def ready(self) -> None:
        from policy.receivers import reevaluate_on_approval_change
        from policy.selectors import condition_choices
        from registry import conditions
        from registry.signals import approval_changed

        # The registry checks approval conditions against these facts' vocabulary.
        conditions.provide(condition_choices)

        approval_changed.connect(
            reevaluate_on_approval_change, dispatch_uid="policy.reevaluate_on_approval_change"
        )
        # After every migrate, not in a migration: SQLite drops a table's triggers whenever
        # a later migration rebuilds the table (see policy/factcache.py).
        post_migrate.connect(_install_fact_cache_triggers, dispatch_uid="policy.fact_cache")


def _install_fact_cache_triggers(sender: AppConfig, **kwargs: object) -> None:
    if sender.label != "policy":
        return
    from policy.factcache import install

    install(using=str(kwargs.get("using", "default")))
