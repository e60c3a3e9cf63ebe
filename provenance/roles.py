"""What each role may do with provenance (merged into the role groups by accounts.roles).

Model owners sign and see their own jobs; approvers and auditors see every job; verifying
a file is open to every signed-in user. Signing credentials are for admins only.
"""

ROLE_PERMISSIONS = {
    "model_owner": ["provenance.add_signingjob"],
    "approver": ["provenance.view_signingjob"],
    "auditor": ["provenance.view_signingjob", "provenance.view_signingcredential"],
    "admin": [
        "provenance.add_signingcredential",
        "provenance.change_signingcredential",
        "provenance.view_signingcredential",
        "provenance.view_signingjob",
        "provenance.add_signingjob",
    ],
}
