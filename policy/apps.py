from django.apps import AppConfig


class PolicyConfig(AppConfig):
    name = "policy"

    def ready(self) -> None:
        from policy.receivers import reevaluate_on_approval_change
        from registry.signals import approval_changed

        approval_changed.connect(
            reevaluate_on_approval_change, dispatch_uid="policy.reevaluate_on_approval_change"
        )
