"""Signed export bundles, and the offline verifier against tampering."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings
from steward_client.cli import main as steward_main
from steward_client.verify import verify_bundle

from audit.exports.bundle import bundle_path, read_member
from audit.keys import public_pem, signing_key
from audit.models import JobStatus, ReportExport
from audit.services import export_request, export_run, record_event
from config.exceptions import NotAllowed

pytestmark = pytest.mark.django_db


@pytest.fixture
def public_key_file(tmp_path: Path) -> Path:
    path = tmp_path / "audit-public.pem"
    path.write_text(public_pem(signing_key().public_key))
    return path


@pytest.fixture
def run_export(auditor: Any, django_capture_on_commit_callbacks: Any) -> Any:
    def run(fmt: str, filters: dict[str, str] | None = None) -> ReportExport:
        # The task is enqueued after commit; here the test runs the service itself.
        export = export_request(actor=auditor, format=fmt, filters=filters or {})
        with django_capture_on_commit_callbacks(execute=True):
            export_run(export_id=export.pk)
        export.refresh_from_db()
        assert export.status == JobStatus.SUCCEEDED, export.error
        return export

    return run


def _verify(path: Path, key: Path, capsys: Any) -> tuple[int, str]:
    code = steward_main(["verify-export", str(path), "--key", str(key)])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _rewrite(src: Path, dst: Path, name: str, change: Any) -> None:
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(dst, "w") as new:
        for item in old.namelist():
            data = old.read(item)
            new.writestr(item, change(data) if item == name else data)


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "ocsf", "pdf"])
def test_every_format_makes_a_bundle_that_verifies_offline(
    fmt, run_export, some_events, public_key_file, capsys
):
    some_events(5)
    export = run_export(fmt)
    assert export.count == 6  # five events and the export request
    assert export.checkpoint is not None
    code, output = _verify(bundle_path(export), public_key_file, capsys)
    assert code == 0, output
    assert "VERIFIED" in output
    manifest = json.loads(read_member(export, "manifest.json"))
    assert (manifest["count"], manifest["first_seq"], manifest["last_seq"]) == (6, 1, 6)
    assert manifest["checkpoints"][-1]["seq"] == export.checkpoint.seq


def test_a_changed_byte_fails_the_digest(
    run_export, some_events, public_key_file, tmp_path, capsys
):
    some_events(3)
    export = run_export("jsonl")
    forged = tmp_path / "forged.zip"
    _rewrite(
        bundle_path(export), forged, "events.jsonl", lambda d: d.replace(b"thing 1", b"thing 7", 1)
    )
    code, output = _verify(forged, public_key_file, capsys)
    assert code == 1
    assert "digest mismatch: events.jsonl" in output
    assert "hash mismatch at seq 2" in output


def test_a_removed_line_is_reported_with_its_seq(
    run_export, some_events, public_key_file, tmp_path, capsys
):
    some_events(4)
    export = run_export("jsonl")
    forged = tmp_path / "forged.zip"

    def drop_third(data: bytes) -> bytes:
        lines = data.splitlines(keepends=True)
        return b"".join(lines[:2] + lines[3:])

    _rewrite(bundle_path(export), forged, "events.jsonl", drop_third)
    code, output = _verify(forged, public_key_file, capsys)
    assert code == 1
    assert "digest mismatch: events.jsonl" in output
    assert "seq 3 listed in hashes.txt is missing from events.jsonl" in output


def test_a_wrong_key_fails_the_signature(run_export, some_events, tmp_path, capsys):
    some_events(2)
    export = run_export("csv")
    other = tmp_path / "other.pem"
    other.write_text(public_pem(Ed25519PrivateKey.generate().public_key()))
    code, output = _verify(bundle_path(export), other, capsys)
    assert code == 1
    assert "bad signature: manifest.json is not signed" in output


def test_a_missing_key_file_is_a_usage_error(run_export, some_events, tmp_path, capsys):
    some_events(1)
    export = run_export("jsonl")
    code, output = _verify(bundle_path(export), tmp_path / "nope.pem", capsys)
    assert code == 2
    assert "cannot read the public key" in output


def test_filters_select_the_events_and_the_subset_still_verifies(
    run_export, some_events, public_key_file, viewer
):
    some_events(3, action="thing.created")
    some_events(2, action="thing.approved")
    export = run_export("jsonl", {"action": "thing.approved"})
    lines = read_member(export, "events.jsonl").decode().splitlines()
    assert [json.loads(line)["action"] for line in lines] == ["thing.approved"] * 2
    keys = [signing_key().public_key]
    assert verify_bundle(str(bundle_path(export)), keys).ok
    assert export.manifest["filters"] == {"action": "thing.approved"}


def test_ocsf_lines_map_classes_and_fields(run_export, viewer, public_key_file):
    from audit.context import audit_context

    with audit_context(channel="web", ip="10.1.2.3", request_id="req-1"):
        record_event(actor=viewer, action="auth.login", target=viewer)
    with audit_context(channel="api", ip="10.9.9.9", request_id="req-2"):
        record_event(
            actor=viewer,
            action="decision.denied",
            target=("policy.deployment", 7, "chat-prod"),
            changes={"policy": "eu-residency"},
            outcome="denied",
        )
    record_event(
        actor=viewer,
        action="model_version.approved",
        target=("registry.modelversion", 3, "Llama 3.1 8B"),
        changes={"status": {"before": "submitted", "after": "approved"}},
    )
    export = run_export("ocsf")
    lines = [json.loads(line) for line in read_member(export, "events.ocsf.jsonl").splitlines()]
    login, denied, approved = lines[0], lines[1], lines[2]
    assert (login["class_uid"], login["category_uid"], login["activity_id"], login["type_uid"]) == (
        3002,
        3,
        1,
        300201,
    )
    assert login["src_endpoint"] == {"ip": "10.1.2.3"}
    assert login["user"]["name"] == viewer.username
    assert (denied["class_uid"], denied["category_uid"]) == (6003, 6)
    assert denied["api"]["operation"] == "decision.denied"
    assert (denied["status_id"], denied["status"], denied["status_detail"]) == (
        2,
        "Failure",
        "denied",
    )
    assert denied["metadata"]["correlation_uid"] == "req-2"
    assert (approved["class_uid"], approved["activity_id"], approved["type_uid"]) == (
        3004,
        3,
        300403,
    )
    assert approved["entity"]["type"] == "registry.modelversion"
    assert approved["entity"]["name"] == "Llama 3.1 8B"
    assert approved["actor"]["user"]["name"] == viewer.username
    assert approved["metadata"]["product"]["name"] == "Steward"
    assert approved["metadata"]["sequence"] == 3
    assert approved["time"] > 1_700_000_000_000  # epoch milliseconds
    assert approved["unmapped"]["steward"]["hash"] == approved["metadata"]["uid"]


def test_the_pdf_report_summarises_and_lists_the_inventory(run_export, viewer, owner):
    from registry.models import AIModel, License, ModelVersion, RiskAssessment

    licence = License.objects.create(
        spdx_id="Llama-3.1", name="Llama 3.1 Community", category="open_weights_restricted"
    )
    model = AIModel.objects.create(
        slug="llama-3-1-8b",
        name="Llama 3.1 8B",
        provider="Meta",
        provider_jurisdiction="US",
        access="open_weights",
        license=licence,
        openness_tier="open_weights_only",
    )
    version = ModelVersion.objects.create(
        model=model, label="2024-07-23", status="approved", created_by=owner
    )
    RiskAssessment.objects.create(version=version, eu_ai_act_class="gpai", computed_grade="medium")
    for action, outcome, changes in [
        ("model_version.approved", "success", {}),
        ("model_version.approved", "success", {}),
        ("model_version.rejected", "success", {}),
        ("decision.denied", "denied", {"violations": [{"policy": "eu-residency"}]}),
        ("waiver.created", "success", {"expires_at": "2027-01-31"}),
        ("provenance.signed", "success", {}),
    ]:
        record_event(actor=viewer, action=action, changes=changes, outcome=outcome)
    export = run_export("pdf")
    pdf = read_member(export, "report.pdf")
    assert pdf.startswith(b"%PDF")
    for text in [
        b"Steward audit report",
        b"Approvals",
        b"Rejections",
        b"Policy denials",
        b"eu-residency",
        b"2027-01-31",
        b"Signing volume",
        b"Llama 3.1 8B",
        b"Llama-3.1",
        b"Open weights only",
        b"medium",
        b"model_version.rejected",
    ]:
        assert text in pdf, text
    assert b"(Approvals) Tj" in pdf or b"Approvals" in pdf
    # Counts are in the summary table: 2 approvals.
    summary = pdf[pdf.index(b"Approvals") : pdf.index(b"Approvals") + 200]
    assert b"(2)" in summary


def test_only_exporters_may_export(viewer):
    with pytest.raises(NotAllowed):
        export_request(actor=viewer, format="jsonl", filters={})


def test_the_api_creates_lists_and_downloads(
    auditor,
    viewer,
    bearer,
    some_events,
    django_capture_on_commit_callbacks,
    public_key_file,
    tmp_path,
):
    some_events(2)
    exporter = bearer(auditor, "audit:export", "audit:read")
    assert (
        bearer(auditor, "audit:read").post("/api/v1/audit/exports/", {"format": "csv"}).status_code
        == 403
    )
    assert (
        bearer(viewer, "audit:export").post("/api/v1/audit/exports/", {"format": "csv"}).status_code
        == 403
    )
    bad = exporter.post("/api/v1/audit/exports/", {"format": "docx"})
    assert bad.status_code == 400 and "format" in bad.json()["error"]["fields"]
    bad_filter = exporter.post(
        "/api/v1/audit/exports/", {"format": "csv", "filters": {"outcome": "meh"}}
    )
    assert bad_filter.status_code == 400
    misspelt = exporter.post(
        "/api/v1/audit/exports/", {"format": "csv", "filters": {"actoin": "registry."}}
    )
    assert misspelt.status_code == 400  # not an export of the whole trail
    assert "actoin" in misspelt.json()["error"]["fields"]["filters"][0]
    assert not ReportExport.objects.exists()
    created = exporter.post(
        "/api/v1/audit/exports/", {"format": "jsonl", "filters": {"action": "test."}}
    )
    assert created.status_code == 202
    export_id = created.json()["id"]
    assert exporter.get(f"/api/v1/audit/exports/{export_id}/download/").status_code == 409
    with django_capture_on_commit_callbacks(execute=True):
        export_run(export_id=export_id)
    listed = exporter.get("/api/v1/audit/exports/").json()["results"]
    assert listed[0]["status"] == "succeeded" and listed[0]["count"] == 2
    download = exporter.get(listed[0]["download_url"])
    assert download.status_code == 200
    path = tmp_path / "bundle.zip"
    path.write_bytes(b"".join(download.streaming_content))
    assert verify_bundle(str(path), [signing_key().public_key]).ok
    assert exporter.get("/api/v1/audit/exports/999/download/").status_code == 404


def test_the_events_api_filters_like_the_explorer(auditor, bearer, some_events):
    client = bearer(auditor, "audit:read")
    some_events(3, action="thing.created")
    some_events(2, action="thing.approved")
    body = client.get("/api/v1/audit/events/", {"action": "thing.approved"}).json()
    assert body["count"] == 2
    assert {e["action"] for e in body["results"]} == {"thing.approved"}
    assert client.get("/api/v1/audit/events/", {"action": "thing."}).json()["count"] == 5
    assert client.get("/api/v1/audit/events/", {"outcome": "nope"}).status_code == 400
    detail = client.get("/api/v1/audit/events/2/").json()
    assert detail["seq"] == 2 and len(detail["hash"]) == 64


def test_an_event_with_a_big_float_verifies_on_the_server_and_offline(
    run_export, viewer, public_key_file, tmp_path, capsys
):
    """Training compute of a model card (7.5e+23 FLOPs): PostgreSQL's jsonb reads it back as
    an integer; the chain and the offline verifier still hash it as the float it was."""
    from audit.verification import verify_chain

    record_event(actor=viewer, action="model.created", changes={"training_compute_flops": 7.5e23})
    assert verify_chain().ok
    export = run_export("jsonl")
    code, output = _verify(bundle_path(export), public_key_file, capsys)
    assert code == 0, output


# CSV cells that a spreadsheet would run as a formula (CWE-1236): a failed sign-in's username,
# a user's name, a target's label are typed by people the auditor does not control.
FORMULA = '=HYPERLINK("http://evil","x")'
DASH = "-2+3+cmd|' /C calc'!A0"
QUOTE = "'=1+1 already quoted"


@pytest.fixture
def formula_events(make_user: Any) -> None:
    from accounts.services import login_failed

    login_failed(username=FORMULA, locked_out=False)
    record_event(
        actor=make_user(DASH),
        action="test.step",
        target=("test.thing", "@7", QUOTE),
        changes={"note": FORMULA},
    )


def _csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


def test_csv_cells_a_spreadsheet_would_run_are_escaped_and_the_bundle_verifies(
    formula_events, run_export, public_key_file, capsys
):
    from steward_client.verify import _events

    from audit.exports.bundle import iter_export_events
    from audit.models import AuditEvent

    export = run_export("csv")
    data = read_member(export, "events.csv")
    rows = _csv_rows(data)
    assert rows[0]["target_label"] == "'" + FORMULA
    assert rows[1]["actor_label"] == "'" + DASH
    assert (rows[1]["target_id"], rows[1]["target_label"]) == ("'@7", "'" + QUOTE)
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    manifest = json.loads(read_member(export, "manifest.json"))
    assert manifest["csv_formula_escape"] == "leading-quote"

    code, output = _verify(bundle_path(export), public_key_file, capsys)
    assert code == 0, output

    # The verifier reads back exactly what the server hashed.
    original = list(iter_export_events(AuditEvent.objects.filter(seq__lte=export.last_seq)))
    assert list(_events(data, "csv", "leading-quote")) == original
    assert original[0]["target_label"] == FORMULA
    assert original[1]["actor_label"] == DASH
    assert original[1]["target_label"] == QUOTE


@pytest.mark.parametrize(
    ("escaped", "forged"),
    [
        (f"'{FORMULA}", f"'{FORMULA.replace('evil', 'evel')}"),  # content changed
        (f"'{FORMULA}", FORMULA),  # escape removed: the spreadsheet would run it again
        (f"'{QUOTE}", QUOTE),  # one quote of two removed
    ],
)
def test_a_changed_escaped_csv_cell_fails_verification(
    escaped, forged, formula_events, run_export, public_key_file, tmp_path, capsys
):
    export = run_export("csv")
    forged_bundle = tmp_path / "forged.zip"

    def change(data: bytes) -> bytes:
        rows = _csv_rows(data)
        changed = [{k: forged if v == escaped else v for k, v in row.items()} for row in rows]
        assert changed != rows
        out = io.StringIO(newline="")
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(changed)
        return out.getvalue().encode("utf-8")

    _rewrite(bundle_path(export), forged_bundle, "events.csv", change)
    code, output = _verify(forged_bundle, public_key_file, capsys)
    assert code == 1
    assert "digest mismatch: events.csv" in output
    assert "FAILED events:" in output


def test_a_csv_bundle_from_before_the_escaping_still_verifies(
    formula_events, auditor, make_checkpoint, public_key_file, tmp_path, capsys
):
    from audit.exports.bundle import build_bundle
    from audit.models import AuditEvent

    export = export_request(actor=auditor, format="csv", filters={})
    checkpoint = make_checkpoint()
    result = build_bundle(
        export,
        AuditEvent.objects.all(),
        checkpoint,
        total=AuditEvent.objects.count(),
        on_progress=lambda done, total: None,
        escape_csv_formulas=False,
    )
    assert "csv_formula_escape" not in result["manifest"]
    old = Path(settings.STEWARD_AUDIT_EXPORT_DIR) / result["bundle_name"]
    with zipfile.ZipFile(old) as archive:
        rows = _csv_rows(archive.read("events.csv"))
    assert rows[0]["target_label"] == FORMULA  # verbatim, as such bundles were
    assert rows[1]["target_label"] == QUOTE
    code, output = _verify(old, public_key_file, capsys)
    assert code == 0, output

    forged = tmp_path / "forged.zip"
    _rewrite(old, forged, "events.csv", lambda d: d.replace(b"evil", b"evel", 1))
    code, output = _verify(forged, public_key_file, capsys)
    assert code == 1
    assert "hash mismatch at seq 1" in output


def test_a_manifest_naming_an_unknown_csv_escape_fails_the_events_check(
    formula_events, run_export, public_key_file, tmp_path, capsys
):
    from audit.chain import canonicalize

    export = run_export("csv")
    manifest = json.loads(read_member(export, "manifest.json"))
    manifest["csv_formula_escape"] = "backslash"
    manifest_bytes = canonicalize(manifest)
    # Signed by the server's own key: a manifest from a newer server, say.
    rebuilt = tmp_path / "rebuilt.zip"
    with zipfile.ZipFile(bundle_path(export)) as old, zipfile.ZipFile(rebuilt, "w") as new:
        for item in old.namelist():
            if item == "manifest.json":
                new.writestr(item, manifest_bytes)
            elif item == "manifest.json.sig":
                new.writestr(item, signing_key().sign(manifest_bytes) + "\n")
            else:
                new.writestr(item, old.read(item))
    code, output = _verify(rebuilt, public_key_file, capsys)
    assert code == 1
    assert "OK     signature" in output
    assert "unknown csv_formula_escape 'backslash'" in output


@pytest.mark.parametrize(
    "text",
    ["", "plain", "=1", "+1", "-1", "@x", "\tx", "\rx", "'", "''", "'x", "'=x", "a=b", "\n=x", "="],
)
def test_csv_escaping_round_trips_exactly(text):
    from steward_client.verify import unescape_csv_cell

    from audit.exports.bundle import csv_cell

    escaped = csv_cell(text)
    assert not escaped.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert unescape_csv_cell(escaped) == text
