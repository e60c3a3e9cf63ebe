"""Every write to the registry. Each function is atomic and records an audit event in the
same transaction. Import from here: ``from registry.services import version_approve``."""

from config.exceptions import SeparationOfDuties
from registry.services.cards import MAX_CARD_BYTES, CardPreview, model_card_import, parse_model_card
from registry.services.catalog import (
    approver_scope_grant,
    license_ensure,
    model_create,
    model_update,
    risk_assess,
    risk_override,
    version_create,
)
from registry.services.evals import (
    MAX_LM_EVAL_BYTES,
    EvalInput,
    eval_add,
    evals_import_lm_eval,
    parse_lm_eval,
)
from registry.services.workflow import (
    ALLOWED_FROM,
    CONDITION_KEYS,
    clean_conditions,
    expire_approvals,
    version_approve,
    version_deprecate,
    version_reject,
    version_request_changes,
    version_revoke,
    version_submit,
)

__all__ = [
    "ALLOWED_FROM",
    "CONDITION_KEYS",
    "MAX_CARD_BYTES",
    "MAX_LM_EVAL_BYTES",
    "CardPreview",
    "EvalInput",
    "SeparationOfDuties",
    "approver_scope_grant",
    "clean_conditions",
    "eval_add",
    "evals_import_lm_eval",
    "expire_approvals",
    "license_ensure",
    "model_card_import",
    "model_create",
    "model_update",
    "parse_lm_eval",
    "parse_model_card",
    "risk_assess",
    "risk_override",
    "version_approve",
    "version_create",
    "version_deprecate",
    "version_reject",
    "version_request_changes",
    "version_revoke",
    "version_submit",
]
