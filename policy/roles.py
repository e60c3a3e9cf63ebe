"""What each role may do with policies, deployments and waivers.

| action                                   | roles                          |
|------------------------------------------|--------------------------------|
| read policies, deployments, decisions    | every role                     |
| ask for a decision (check)               | every role (token: policy:check) |
| edit and publish policies, simulate      | approver, admin                |
| create and edit deployments              | model_owner (own/team), admin  |
| request waivers                          | model_owner, approver, admin   |
| decide (approve/reject) and revoke waivers | approver, admin — never the requester |
"""

from __future__ import annotations

from typing import Any

from accounts.roles import ADMIN, APPROVER, MODEL_OWNER, user_has_role

_VIEW = [
    "policy.view_policy",
    "policy.view_policyversion",
    "policy.view_rule",
    "policy.view_deployment",
    "policy.view_waiver",
    "policy.view_decision",
    "policy.view_region",
    "policy.view_usecase",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    "approver": [
        *_VIEW,
        "policy.add_policy",
        "policy.change_policy",
        "policy.publish_policy",
        "policy.add_policyversion",
        "policy.change_policyversion",
        "policy.add_rule",
        "policy.change_rule",
        "policy.delete_rule",
        "policy.add_waiver",
        "policy.decide_waiver",
    ],
    "model_owner": [
        *_VIEW,
        "policy.add_deployment",
        "policy.change_deployment",
        "policy.add_waiver",
    ],
    "auditor": list(_VIEW),
    "viewer": list(_VIEW),
}


def can_edit_policies(user: Any) -> bool:
    return user_has_role(user, ADMIN, APPROVER)


def can_create_deployments(user: Any) -> bool:
    return user_has_role(user, ADMIN, MODEL_OWNER)


def can_request_waivers(user: Any) -> bool:
    return user_has_role(user, ADMIN, APPROVER, MODEL_OWNER)


def can_decide_waivers(user: Any) -> bool:
    return user_has_role(user, ADMIN, APPROVER)
