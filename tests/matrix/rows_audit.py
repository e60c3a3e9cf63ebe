"""Permission-matrix rows of the audit trail (issue 5)."""

from __future__ import annotations

from typing import Any

from tests.matrix.access import AUDIT_EXPORT, AUDIT_READ, AUDITORS, Access, Route
from tests.matrix.builders import Ctx


def audit_read(**kw: Any) -> Access:
    return Access(200, AUDITORS, AUDIT_READ, **kw)


def export_kwargs(ctx: Ctx) -> dict[str, Any]:
    return {"pk": ctx.audit_export().pk}


AUDIT: dict[str, Route] = {
    "api-audit-events": Route("api", {"GET": audit_read()}),
    "api-audit-event-detail": Route(
        "api", {"GET": audit_read()}, kwargs=lambda ctx: {"seq": ctx.audit_event().seq}
    ),
    "api-audit-checkpoints": Route("api", {"GET": audit_read()}),
    "api-audit-keys": Route("api", {"GET": audit_read()}),
    "api-audit-verify": Route("api", {"GET": audit_read()}),
    "api-audit-exports": Route(
        "api",
        {
            "GET": audit_read(),
            "POST": Access(202, AUDITORS, AUDIT_EXPORT, body=lambda ctx: {"format": "jsonl"}),
        },
    ),
    "api-audit-export-detail": Route("api", {"GET": audit_read()}, kwargs=export_kwargs),
    "api-audit-export-download": Route(
        "api", {"GET": Access(200, AUDITORS, AUDIT_EXPORT)}, kwargs=export_kwargs
    ),
    # --- pages ---
    "audit:event-list": Route("ui", {"GET": Access(200, AUDITORS)}),
    "audit:event-detail": Route(
        "ui", {"GET": Access(200, AUDITORS)}, kwargs=lambda ctx: {"seq": ctx.audit_event().seq}
    ),
    "audit:verify": Route("ui", {"POST": Access(302, AUDITORS)}),
    "audit:export-list": Route(
        "ui",
        {
            "GET": Access(200, AUDITORS),
            "POST": Access(302, AUDITORS, body=lambda ctx: {"format": "jsonl"}),
        },
    ),
    "audit:export-row": Route("ui", {"GET": Access(200, AUDITORS)}, kwargs=export_kwargs),
    "audit:export-download": Route("ui", {"GET": Access(200, AUDITORS)}, kwargs=export_kwargs),
    "audit:export-report": Route(
        "ui",
        {"GET": Access(200, AUDITORS)},
        kwargs=lambda ctx: {"pk": ctx.audit_pdf_export().pk},
    ),
    "audit:export-key": Route(
        "ui",
        {"GET": Access(200, AUDITORS)},
        kwargs=lambda ctx: {"pk": ctx.audit_pdf_export().pk},
    ),
}
