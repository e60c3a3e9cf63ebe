"""What the policy app does when another app's facts change."""

from __future__ import annotations

from typing import Any


def reevaluate_on_approval_change(sender: Any, *, version: Any, action: str, **kwargs: Any) -> None:
    """A version was approved, revoked or deprecated: queue a re-evaluation of the deployments
    that use it (the job row is written in the decision's transaction, the task enqueued on
    commit). Nothing is queued for a version no deployment uses."""
    from policy.models import Deployment
    from policy.services import reevaluation_request

    if Deployment.objects.filter(model_version_id=version.pk).exists():
        reevaluation_request(reason=f"model version {version.pk} {action}", version_id=version.pk)
