"""OpenAPI post-processing: the error shape every endpoint can answer with, documented once.

Every operation can fail the same ways (bad input, no or bad credentials, missing scope or
role, unknown object, wrong method or media type, a state conflict, an outage); the API
answers each with ``{"error": {"code", "message", "fields"}}`` (config.api). Views document
their success bodies; this hook adds the error responses they do not document themselves,
so clients and the schema fuzzer (tests/fuzz) know every status the API may return.
"""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string", "description": "Machine-readable, e.g. not_found."},
                "message": {"type": "string", "description": "For humans."},
                "fields": {
                    "type": "object",
                    "additionalProperties": True,
                    "description": "Per-field problems for invalid input; empty otherwise.",
                },
            },
        }
    },
}

ERROR_RESPONSES: dict[str, str] = {
    "400": "Invalid input; `fields` names each problem.",
    "401": "Missing, invalid, expired or revoked credentials.",
    "403": "The token lacks the scope, or the user's role does not allow this.",
    "404": "No such object (or not visible to you).",
    "405": "Method not allowed.",
    "406": "The Accept header admits no type the API answers with (it answers JSON).",
    "409": "Not allowed from the object's current state.",
    "413": "The request body or an uploaded file is larger than allowed.",
    "415": "Unsupported media type.",
    "422": "Well-formed, but names something unknown or unusable.",
    "429": "Too many requests.",
    "503": "A service Steward depends on is unavailable; retry after `Retry-After` seconds.",
}
_HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def add_error_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("Error", ERROR_SCHEMA)
    ref = {"$ref": "#/components/schemas/Error"}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in _HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in ERROR_RESPONSES.items():
                responses.setdefault(
                    status,
                    {"description": description, "content": {"application/json": {"schema": ref}}},
                )
    return result
