"""What the roles may do in the registry (merged into the role groups after migrate).

The services decide with roles, team membership and object permissions (see
registry.permissions); these model permissions drive the Django admin and document intent.
``registry.approve_aimodel`` granted per object scopes an approver to chosen models."""

ROLE_PERMISSIONS: dict[str, list[str]] = {
    "approver": [
        "registry.view_aimodel",
        "registry.view_modelversion",
        "registry.view_license",
        "registry.add_license",
        "registry.change_license",
        "registry.view_approval",
        "registry.change_approval",
        "registry.view_evalresult",
        "registry.view_riskassessment",
        "registry.change_riskassessment",
        "registry.approve_aimodel",
    ],
    "model_owner": [
        "registry.view_aimodel",
        "registry.add_aimodel",
        "registry.change_aimodel",
        "registry.view_modelversion",
        "registry.add_modelversion",
        "registry.change_modelversion",
        "registry.view_license",
        "registry.view_approval",
        "registry.add_approval",
        "registry.view_evalresult",
        "registry.add_evalresult",
        "registry.view_riskassessment",
    ],
    "auditor": [
        "registry.view_aimodel",
        "registry.view_modelversion",
        "registry.view_license",
        "registry.view_approval",
        "registry.view_evalresult",
        "registry.view_riskassessment",
    ],
    "viewer": [
        "registry.view_aimodel",
        "registry.view_modelversion",
        "registry.view_license",
        "registry.view_approval",
        "registry.view_evalresult",
        "registry.view_riskassessment",
    ],
}
