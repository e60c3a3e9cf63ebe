"""Writes of the policy app. Each service is ``@transaction.atomic`` and records its audit
event in the same transaction as its change."""

from policy.services.decisions import check_deployment, check_spec, record_decision
from policy.services.deployments import (
    deployment_create,
    deployment_evaluate,
    deployment_update,
    reevaluate_deployments_for_version,
    reevaluation_request,
    reevaluation_run,
    sweep_expired,
)
from policy.services.policies import (
    policy_create,
    policy_update,
    rule_create,
    rule_delete,
    rule_update,
    version_create_draft,
    version_publish,
    version_update,
)
from policy.services.simulation import simulate_version
from policy.services.waivers import waiver_decide, waiver_request, waiver_revoke

__all__ = [
    "check_deployment",
    "check_spec",
    "deployment_create",
    "deployment_evaluate",
    "deployment_update",
    "policy_create",
    "policy_update",
    "record_decision",
    "reevaluate_deployments_for_version",
    "reevaluation_request",
    "reevaluation_run",
    "rule_create",
    "rule_delete",
    "rule_update",
    "simulate_version",
    "sweep_expired",
    "version_create_draft",
    "version_publish",
    "version_update",
    "waiver_decide",
    "waiver_request",
    "waiver_revoke",
]
