"""The built-in policy packs, seeded as version 1 of four policies (then editable like any).

A rule's expression states what must hold; when it is false (or cannot be evaluated) the
rule fails and its message, whose ``{...}`` placeholders are CEL, explains why. Allowlists
are parameters (``params.*``), so changing them is a reviewed, versioned change of data.
"""

from __future__ import annotations

from typing import Any

EXEMPT = "deployment.environment in params.exempt_environments || "

PACKS: list[dict[str, Any]] = [
    {
        "slug": "acceptable-use",
        "name": "Acceptable use",
        "mode": "enforce",
        "description": (
            "EU AI Act use-case classes and licence terms: no prohibited practices, high-risk "
            "use cases only on low-risk models approved for them, licence restrictions."
        ),
        "params": {
            "high_risk_max_grade_rank": 1,
            "non_commercial_forbidden_environments": ["prod"],
            "aup_restricted_use_cases": {
                "open_weights_restricted": [
                    "social-scoring",
                    "realtime-remote-biometric-identification",
                    "untargeted-facial-scraping",
                ],
                "rail": [
                    "social-scoring",
                    "predictive-policing-profiling",
                    "realtime-remote-biometric-identification",
                ],
            },
        },
        "rules": [
            {
                "rule_id": "no-prohibited-use",
                "title": "No prohibited AI practice (EU AI Act Art. 5)",
                "expression": "use_case.eu_ai_act_class != 'prohibited'",
                "message": (
                    "Use case {use_case.slug} is a prohibited AI practice under the EU AI Act "
                    "({use_case.legal_reference})."
                ),
                "severity": "deny",
            },
            {
                "rule_id": "high-risk-needs-low-risk-model",
                "title": "High-risk use cases need a model of risk grade medium or lower",
                "expression": (
                    "use_case.eu_ai_act_class != 'high' || "
                    "(risk.assessed && risk.grade_rank <= params.high_risk_max_grade_rank)"
                ),
                "message": (
                    "High-risk use case {use_case.slug} needs a model of risk grade medium or "
                    "lower; {model.slug} {version.label} is graded {risk.grade}."
                ),
                "severity": "deny",
            },
            {
                "rule_id": "high-risk-needs-use-case-approval",
                "title": "High-risk use cases must be named in the model's approval",
                "expression": (
                    "use_case.eu_ai_act_class != 'high' || "
                    "(approval.in_force && use_case.slug in approval.conditions.use_cases)"
                ),
                "message": (
                    "High-risk use case {use_case.slug} is not named in the approval of "
                    "{model.slug} {version.label} (approved use cases: "
                    "{approval.conditions.use_cases})."
                ),
                "severity": "deny",
            },
            {
                "rule_id": "non-commercial-licence-not-in-prod",
                "title": "Non-commercial licences never in production",
                "expression": (
                    "(license.commercial_use && license.category != 'non_commercial') || "
                    "!(deployment.environment in params.non_commercial_forbidden_environments)"
                ),
                "message": (
                    "Licence {license.spdx_id} does not allow commercial use, so {model.slug} "
                    "cannot run in {deployment.environment}."
                ),
                "severity": "deny",
            },
            {
                "rule_id": "licence-user-threshold",
                "title": "Licence user thresholds (e.g. Llama's 700M MAU clause)",
                "expression": (
                    "license.user_threshold_mau == null || deployment.expected_mau == null || "
                    "deployment.expected_mau <= license.user_threshold_mau"
                ),
                "message": (
                    "{deployment.expected_mau} expected monthly users exceed the "
                    "{license.user_threshold_mau} allowed by {license.spdx_id}: a separate "
                    "licence from {model.provider} is needed."
                ),
                "severity": "deny",
            },
            {
                "rule_id": "licence-territorial-restriction",
                "title": "Licence territorial restrictions",
                "expression": "!(region.jurisdiction in license.territorial_restrictions)",
                "message": (
                    "Licence {license.spdx_id} restricts use in {region.jurisdiction}; "
                    "{region.code} is there."
                ),
                "severity": "deny",
            },
            {
                "rule_id": "licence-acceptable-use-policy",
                "title": "Use cases the licence's acceptable-use policy forbids",
                "expression": (
                    "!(license.category in params.aup_restricted_use_cases) || "
                    "!(use_case.slug in params.aup_restricted_use_cases[license.category])"
                ),
                "message": (
                    "The acceptable-use policy of {license.spdx_id} forbids {use_case.slug}."
                ),
                "severity": "deny",
            },
            {
                "rule_id": "transparency-duties",
                "title": "Limited-risk systems carry transparency duties (Art. 50)",
                "expression": (
                    "use_case.eu_ai_act_class != 'limited' || deployment.environment != 'prod'"
                ),
                "message": (
                    "{use_case.slug} has EU AI Act transparency duties: tell people they are "
                    "dealing with AI, and mark generated content as such."
                ),
                "severity": "warn",
            },
        ],
    },
    {
        "slug": "data-residency",
        "name": "Data residency",
        "mode": "enforce",
        "description": (
            "Where personal and health data may be processed, and where vendor APIs may run."
        ),
        "params": {
            "personal_data_allowed_jurisdictions": ["EU"],
            "allow_adequacy_regions": True,
            "health_data_allowed_jurisdictions": ["EU", "CH"],
            "health_data_allowed_hosting": ["self_hosted"],
            "vendor_api_allowed_jurisdictions": ["EU", "UK", "CH", "US", "CA", "JP"],
            "self_host_only_provider_jurisdictions": ["CN"],
        },
        "rules": [
            {
                "rule_id": "personal-data-eu-residency",
                "title": "EU personal data stays in the EU/EEA or an adequacy country",
                "expression": (
                    "!data.personal || deployment.data_subject_region != 'EU' || "
                    "region.jurisdiction in params.personal_data_allowed_jurisdictions || "
                    "(params.allow_adequacy_regions && region.eu_adequacy)"
                ),
                "message": (
                    "Personal data of EU data subjects cannot be processed in {region.code} "
                    "({region.jurisdiction}): only EU/EEA or EU-adequacy regions."
                ),
                "severity": "deny",
            },
            {
                "rule_id": "health-data-self-hosted",
                "title": "Health data only self-hosted in allowed regions",
                "expression": (
                    "!data.special_category || "
                    "(deployment.hosting in params.health_data_allowed_hosting && "
                    "region.jurisdiction in params.health_data_allowed_jurisdictions)"
                ),
                "message": (
                    "Health data needs a {params.health_data_allowed_hosting} deployment in "
                    "{params.health_data_allowed_jurisdictions}; this one is "
                    "{deployment.hosting} in {region.code} ({region.jurisdiction})."
                ),
                "severity": "deny",
            },
            {
                "rule_id": "vendor-api-processing-region",
                "title": "Vendor APIs only where the processing region is allowed",
                "expression": (
                    "deployment.hosting != 'vendor_api' || "
                    "region.jurisdiction in params.vendor_api_allowed_jurisdictions"
                ),
                "message": (
                    "{model.provider}'s API would process data in {region.code} "
                    "({region.jurisdiction}), which is not an allowed processing region."
                ),
                "severity": "deny",
            },
            {
                "rule_id": "personal-data-provider-jurisdiction",
                "title": "Personal data with some providers' models only self-hosted",
                "expression": (
                    "!data.personal || deployment.hosting == 'self_hosted' || "
                    "!(model.provider_jurisdiction in params.self_host_only_provider_jurisdictions)"
                ),
                "message": (
                    "{model.slug} comes from a provider in {model.provider_jurisdiction}: "
                    "self-host it to process personal data."
                ),
                "severity": "warn",
            },
        ],
    },
    {
        "slug": "model-approval",
        "name": "Model approval",
        "mode": "enforce",
        "description": (
            "The model version must be approved, the approval in force, and the deployment "
            "within the approval's conditions."
        ),
        "params": {"exempt_environments": []},
        "rules": [
            {
                "rule_id": "version-approved",
                "title": "The model version is approved",
                "expression": EXEMPT
                + (
                    "(approval.present && approval.decision == 'approved' && "
                    "version.status == 'approved')"
                ),
                "message": (
                    "{model.slug} {version.label} is not approved (version status "
                    "{version.status}, approval {approval.decision})."
                ),
                "severity": "deny",
            },
            {
                "rule_id": "approval-not-expired",
                "title": "The approval has not expired",
                "expression": EXEMPT + "!approval.expired",
                "message": (
                    "The approval of {model.slug} {version.label} expired at {approval.expires_at}."
                ),
                "severity": "deny",
            },
            {
                "rule_id": "approval-environment",
                "title": "Approved for this environment",
                "expression": EXEMPT
                + (
                    "size(approval.conditions.environments) == 0 || "
                    "deployment.environment in approval.conditions.environments"
                ),
                "message": (
                    "{model.slug} {version.label} is approved for environments "
                    "{approval.conditions.environments}, not {deployment.environment}."
                ),
                "severity": "deny",
            },
            {
                "rule_id": "approval-region",
                "title": "Approved for this region and jurisdiction",
                "expression": EXEMPT
                + (
                    "((size(approval.conditions.regions) == 0 || "
                    "region.code in approval.conditions.regions) && "
                    "(size(approval.conditions.jurisdictions) == 0 || "
                    "region.jurisdiction in approval.conditions.jurisdictions))"
                ),
                "message": (
                    "{model.slug} {version.label} is approved for regions "
                    "[{approval.conditions.regions}] and jurisdictions "
                    "[{approval.conditions.jurisdictions}]; {region.code} is in "
                    "{region.jurisdiction}."
                ),
                "severity": "deny",
            },
            {
                "rule_id": "approval-data-classes",
                "title": "Approved for these data classes",
                "expression": EXEMPT
                + (
                    "size(approval.conditions.data_classes) == 0 || "
                    "data.classifications.all(c, c in approval.conditions.data_classes)"
                ),
                "message": (
                    "{model.slug} {version.label} is approved for data classes "
                    "[{approval.conditions.data_classes}], not [{data.classifications}]."
                ),
                "severity": "deny",
            },
            {
                "rule_id": "approval-use-case",
                "title": "Approved for this use case",
                "expression": EXEMPT
                + (
                    "size(approval.conditions.use_cases) == 0 || "
                    "use_case.slug in approval.conditions.use_cases"
                ),
                "message": (
                    "{model.slug} {version.label} is approved for use cases "
                    "[{approval.conditions.use_cases}], not {use_case.slug}."
                ),
                "severity": "deny",
            },
        ],
    },
    {
        "slug": "eval-gates",
        "name": "Evaluation gates",
        "mode": "enforce",
        "description": "Minimum benchmark scores a model version needs for a use case.",
        "params": {
            "minimum_scores": {
                "coding-assistant": {"humaneval": 60.0},
                "customer-support-chatbot": {"mmlu": 60.0},
                "clinical-notes-summarisation": {"mmlu": 75.0},
            }
        },
        "rules": [
            {
                "rule_id": "minimum-eval-scores",
                "title": "Minimum scores for the use case",
                "expression": (
                    "!(use_case.slug in params.minimum_scores) || "
                    "params.minimum_scores[use_case.slug].all(b, b in version.evals && "
                    "double(version.evals[b]) >= double(params.minimum_scores[use_case.slug][b]))"
                ),
                "message": (
                    "{model.slug} {version.label} does not meet the evaluation minimums for "
                    "{use_case.slug}: needs {params.minimum_scores[use_case.slug]}, has "
                    "[{version.evals}]."
                ),
                "severity": "deny",
            },
        ],
    },
]
