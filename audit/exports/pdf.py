"""The auditor's PDF report (ReportLab): period, summary, model inventory, event table.

The summary is counted from event actions while the events stream past, in constant memory;
the event table prints at most ``STEWARD_AUDIT_PDF_MAX_ROWS`` rows (the bundle's
events.jsonl carries every event).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

_MAX_WAIVERS = 200


class ReportSummary:
    """Counts what the report's summary shows, one event at a time."""

    def __init__(self) -> None:
        self.count = 0
        self.first_time: str | None = None
        self.last_time: str | None = None
        self.approvals = 0
        self.rejections = 0
        self.denials_by_policy: Counter[str] = Counter()
        self.waivers: list[dict[str, str]] = []
        self.waiver_count = 0
        self.signing = 0
        self.outcomes: Counter[str] = Counter()
        self.actions: Counter[str] = Counter()
        self.rows: list[list[str]] = []
        self.max_rows = int(settings.STEWARD_AUDIT_PDF_MAX_ROWS)

    def add(self, event: dict[str, Any]) -> None:
        self.count += 1
        when = str(event["occurred_at"])
        self.first_time = self.first_time or when
        self.last_time = when
        action = str(event["action"])
        changes = event.get("changes") or {}
        self.outcomes[str(event["outcome"])] += 1
        self.actions[action] += 1
        if action.endswith(".approved"):
            self.approvals += 1
        elif action.endswith(".rejected"):
            self.rejections += 1
        if action.startswith("decision.") and (
            action.endswith(".denied") or event["outcome"] == "denied"
        ):
            for policy in _policies(changes):
                self.denials_by_policy[policy] += 1
        if action.startswith("waiver."):
            self.waiver_count += 1
            if len(self.waivers) < _MAX_WAIVERS:
                self.waivers.append(
                    {
                        "action": action,
                        "target": str(event.get("target_label") or event.get("target_id") or ""),
                        "expires": str(changes.get("expires_at") or changes.get("expires") or "—"),
                    }
                )
        if action.startswith("provenance.") and action.endswith("signed"):
            self.signing += 1
        if len(self.rows) < self.max_rows:
            self.rows.append(
                [
                    str(event["seq"]),
                    when[:19].replace("T", " "),
                    str(event.get("actor_label") or event.get("actor_type")),
                    action,
                    str(event.get("target_label") or event.get("target_type") or "")[:60],
                    str(event["outcome"]),
                ]
            )


def _policies(changes: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for key in ("policy", "policies"):
        value = changes.get(key)
        if isinstance(value, str):
            names.append(value)
        elif isinstance(value, list):
            names += [str(v) for v in value]
    for violation in changes.get("violations") or []:
        if isinstance(violation, dict) and violation.get("policy"):
            names.append(str(violation["policy"]))
    return sorted(set(names)) or ["(no policy named)"]


def model_inventory() -> list[list[str]] | None:
    """Model, version, licence, openness, risk grade, approval state — or None when the
    registry cannot be read (the report then says so)."""
    try:
        from registry.models import ModelVersion

        with transaction.atomic():
            rows = []
            versions = ModelVersion.objects.select_related(
                "model", "model__license", "current_approval", "risk"
            ).order_by("model__name", "label")[:1000]
            for version in versions:
                risk = version.risk if hasattr(version, "risk") else None
                approval = version.current_approval
                state = version.get_status_display()
                if approval is not None and approval.expires_at:
                    state += f" until {approval.expires_at:%Y-%m-%d}"
                rows.append(
                    [
                        version.model.name,
                        version.label,
                        version.model.license.spdx_id,
                        version.model.get_openness_tier_display(),
                        risk.grade if risk is not None else "—",
                        state,
                    ]
                )
            return rows
    except (ImportError, LookupError, DatabaseError, AttributeError):
        return None


def _table(rows: list[list[str]], widths: list[float] | None = None) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8),
                ("FONT", (0, 1), (-1, -1), "Helvetica", 8),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f4")),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#d0d7de")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def write_pdf(path: Path, summary: ReportSummary, meta: dict[str, Any]) -> None:
    styles = getSampleStyleSheet()
    doc = SimpleDocTemplate(
        str(path),
        pagesize=landscape(A4),
        title="Steward audit report",
        author="Steward",
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        # Uncompressed, reproducible: auditors' tools (and the tests) can read the text.
        pageCompression=0,
        invariant=1,
    )
    h1, h2, body = styles["Title"], styles["Heading2"], styles["BodyText"]
    period_from = meta.get("filters", {}).get("occurred_after") or summary.first_time or "—"
    period_to = meta.get("filters", {}).get("occurred_before") or summary.last_time or "—"
    story: list[Any] = [
        Paragraph("Steward audit report", h1),
        Paragraph(f"Period: {period_from} to {period_to}", body),
        Paragraph(
            f"Export {meta['export_id']} requested by {meta['requested_by']} at "
            f"{meta['created_at']}; events seq {meta['first_seq']} to {meta['last_seq']} "
            f"({summary.count} events); chain head signed at seq {meta['chain_head_seq']}.",
            body,
        ),
        Paragraph(
            "Filters: "
            + (", ".join(f"{k}={v}" for k, v in sorted(meta.get("filters", {}).items())) or "none"),
            body,
        ),
        Spacer(1, 4 * mm),
        Paragraph("Summary", h2),
        _table(
            [
                ["Measure", "Count"],
                ["Events", str(summary.count)],
                ["Approvals", str(summary.approvals)],
                ["Rejections", str(summary.rejections)],
                ["Policy denials", str(sum(summary.denials_by_policy.values()))],
                ["Waiver events", str(summary.waiver_count)],
                ["Signing volume (media signed)", str(summary.signing)],
                *[[f"Outcome: {k}", str(v)] for k, v in sorted(summary.outcomes.items())],
            ],
            [90 * mm, 30 * mm],
        ),
    ]
    if summary.denials_by_policy:
        story += [
            Paragraph("Denials by policy", h2),
            _table(
                [["Policy", "Denials"]]
                + [[k, str(v)] for k, v in summary.denials_by_policy.most_common()]
            ),
        ]
    if summary.waivers:
        story += [
            Paragraph("Waivers and their expiry", h2),
            _table(
                [["Action", "Waiver", "Expires"]]
                + [[w["action"], w["target"], w["expires"]] for w in summary.waivers]
            ),
        ]
    story.append(Paragraph("Model inventory", h2))
    inventory = model_inventory()
    if inventory is None:
        story.append(Paragraph("The model registry could not be read.", body))
    elif not inventory:
        story.append(Paragraph("No models are registered.", body))
    else:
        story.append(
            _table(
                [
                    ["Model", "Version", "Licence", "Openness", "Risk grade", "Approval state"],
                    *inventory,
                ]
            )
        )
    story.append(Paragraph("Events", h2))
    if summary.count > len(summary.rows):
        story.append(
            Paragraph(
                f"The first {len(summary.rows)} of {summary.count} events; every event is in "
                "events.jsonl in this bundle.",
                body,
            )
        )
    story.append(
        _table(
            [["Seq", "Time (UTC)", "Actor", "Action", "Target", "Outcome"], *summary.rows],
            [16 * mm, 34 * mm, 50 * mm, 60 * mm, 80 * mm, 20 * mm],
        )
    )
    doc.build(story)
