"""Domain signals of the registry, sent by its services (never by request-bound code).

``approval_changed`` fires inside the service's transaction whenever a version becomes usable
or stops being usable by a decision (approved, revoked, deprecated). The registry does not
know who depends on approvals; the policy app listens and re-evaluates the deployments that
use the version, so a deployment denied for want of an approval turns allowed once it is
approved (and the reverse on revocation) without anyone pressing "evaluate".
"""

from __future__ import annotations

from django.dispatch import Signal

# kwargs: version (ModelVersion), action ("approved" | "revoked" | "deprecated")
approval_changed = Signal()
