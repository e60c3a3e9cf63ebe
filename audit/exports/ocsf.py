"""Audit events as OCSF 1.1 events, for SIEMs (Splunk, Amazon Security Lake, ...).

Mapping:
- ``auth.*``            → Authentication (3002), category Identity & Access Management (3):
  login = Logon (1), logout = Logoff (2), anything else Other (99).
- events that came through the REST API (context channel ``api``) → API Activity (6003),
  category Application Activity (6): ``api.operation`` is the Steward action.
- every other change → Entity Management (3004), category IAM (3): ``entity`` is the target.

Activity ids for 3004/6003 come from the action's verb: created → Create (1), read/exported/
viewed → Read (2), deleted/purged → Delete (4), other changes (approved, revoked, signed...)
→ Update (3). ``type_uid`` = class_uid × 100 + activity_id. Outcome ``success`` → status
Success (1), ``failure``/``denied`` → Failure (2) with ``status_detail``. The whole Steward event,
with the fields its hash covers, is under ``unmapped.steward`` so an export stays verifiable.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

OCSF_VERSION = "1.1.0"
PRODUCT = {"name": "Steward", "vendor_name": "Steward", "version": "0.1.0"}

AUTHENTICATION = (3002, 3, "Authentication", "Identity & Access Management")
ENTITY_MANAGEMENT = (3004, 3, "Entity Management", "Identity & Access Management")
API_ACTIVITY = (6003, 6, "API Activity", "Application Activity")

_CRUD_ACTIVITY = {1: "Create", 2: "Read", 3: "Update", 4: "Delete", 99: "Other"}
_CREATE_VERBS = {"created", "registered", "requested", "submitted", "imported", "uploaded"}
_READ_VERBS = {"read", "viewed", "exported", "downloaded", "verified", "checked"}
_DELETE_VERBS = {"deleted", "purged", "removed"}


def _activity(verb: str) -> int:
    if verb in _CREATE_VERBS or verb.endswith("_requested"):
        return 1
    if verb in _READ_VERBS:
        return 2
    if verb in _DELETE_VERBS:
        return 4
    return 3


def _epoch_ms(value: str) -> int:
    return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)


def ocsf_event(event: dict[str, Any]) -> dict[str, Any]:
    action = str(event["action"])
    verb = action.rsplit(".", 1)[-1]
    context = event.get("context") or {}
    outcome = event.get("outcome", "success")
    if action.startswith("auth."):
        class_uid, category_uid, class_name, category_name = AUTHENTICATION
        activity_id = {"login": 1, "logout": 2, "login_failed": 1}.get(verb, 99)
        activity_name = {1: "Logon", 2: "Logoff"}.get(activity_id, "Other")
    elif context.get("channel") == "api":
        class_uid, category_uid, class_name, category_name = API_ACTIVITY
        activity_id = _activity(verb)
        activity_name = _CRUD_ACTIVITY[activity_id]
    else:
        class_uid, category_uid, class_name, category_name = ENTITY_MANAGEMENT
        activity_id = _activity(verb)
        activity_name = _CRUD_ACTIVITY[activity_id]

    user: dict[str, Any] = {
        "name": event.get("actor_label") or event.get("actor_type"),
        "type": "System" if event.get("actor_type") in ("system", "worker") else "User",
        "type_id": 99 if event.get("actor_type") in ("system", "worker") else 1,
    }
    if event.get("actor_id"):
        user["uid"] = str(event["actor_id"])
    actor: dict[str, Any] = {"user": user, "app_name": "Steward"}
    if context.get("token"):
        actor["session"] = {"uid": str(context["token"]), "issuer": "steward-api-token"}

    status_id = 1 if outcome == "success" else 2
    out: dict[str, Any] = {
        "category_uid": category_uid,
        "category_name": category_name,
        "class_uid": class_uid,
        "class_name": class_name,
        "activity_id": activity_id,
        "activity_name": activity_name,
        "type_uid": class_uid * 100 + activity_id,
        "type_name": f"{class_name}: {activity_name}",
        "time": _epoch_ms(str(event["occurred_at"])),
        "severity_id": 1 if status_id == 1 else 3,
        "severity": "Informational" if status_id == 1 else "Medium",
        "status_id": status_id,
        "status": "Success" if status_id == 1 else "Failure",
        "message": f"{action} by {user['name']}"
        + (f" on {event.get('target_label')}" if event.get("target_label") else ""),
        "actor": actor,
        "metadata": {
            "version": OCSF_VERSION,
            "product": PRODUCT,
            "uid": str(event["hash"]),
            "sequence": int(event["seq"]),
            "original_time": str(event["occurred_at"]),
            "log_name": "steward.audit",
            "event_code": action,
        },
        "unmapped": {"steward": event},
    }
    if status_id != 1:
        out["status_detail"] = outcome
    if context.get("request_id"):
        out["metadata"]["correlation_uid"] = str(context["request_id"])
    endpoint: dict[str, Any] = {}
    if context.get("ip"):
        endpoint["ip"] = str(context["ip"])
    if endpoint:
        out["src_endpoint"] = endpoint
    if context.get("user_agent"):
        out["http_request"] = {"user_agent": str(context["user_agent"])}
    entity = {
        "uid": str(event.get("target_id") or ""),
        "name": str(event.get("target_label") or ""),
        "type": str(event.get("target_type") or ""),
    }
    if class_uid == AUTHENTICATION[0]:
        out["user"] = {"name": (event.get("changes") or {}).get("username") or user["name"]}
        out["auth_protocol"] = "Other"
        out["auth_protocol_id"] = 99
        out["is_mfa"] = False
    elif class_uid == API_ACTIVITY[0]:
        out["api"] = {
            "operation": action,
            "service": {"name": "steward"},
            "request": {"uid": str(context.get("request_id") or event["seq"])},
            "response": {"code": 0 if status_id == 1 else 1},
        }
        if entity["type"]:
            out["resources"] = [{**entity, "data": event.get("changes") or {}}]
    else:
        out["entity"] = {**entity, "data": event.get("changes") or {}}
        out["comment"] = action
    return out
