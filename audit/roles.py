"""Audit permissions: auditors (and, through them, admins) read, verify and export the trail.
Nobody else sees it: the trail names who did what to every object in Steward."""

ROLE_PERMISSIONS = {
    "auditor": [
        "audit.view_auditevent",
        "audit.view_checkpoint",
        "audit.view_chainverification",
        "audit.add_chainverification",
        "audit.view_reportexport",
        "audit.add_reportexport",
        "audit.export_auditevent",
    ],
}
