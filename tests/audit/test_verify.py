"""Verification finds edits, gaps and rewrites, and checks checkpoint signatures."""

from __future__ import annotations

import json
import shutil
from io import StringIO

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from audit.chain import GENESIS_HASH, canonical_bytes, canonicalize, event_hash, iter_db_rows
from audit.checkpoints import checkpoint_path, published_documents
from audit.keys import signing_key
from audit.verification import verify_chain
from tests.audit.conftest import tamper_sql

pytestmark = pytest.mark.django_db


def test_an_intact_chain_verifies_with_its_range(make_checkpoint, some_events):
    some_events(6)
    make_checkpoint()
    report = verify_chain()
    assert report.ok, report.reason
    assert (report.first_seq, report.last_seq, report.count) == (1, 6, 6)
    assert report.checkpoints_checked == 1


def test_a_row_edited_with_triggers_disabled_is_found_at_its_seq(some_events):
    some_events(5)
    tamper_sql("UPDATE audit_auditevent SET target_label = 'forged', body = NULL WHERE seq = 3")
    report = verify_chain()
    assert not report.ok
    assert report.broken_seq == 3
    assert report.problem == "hash_mismatch"
    assert report.last_seq == 2


@pytest.mark.parametrize("edit", ["body", "columns"])
def test_a_row_edited_with_its_body_is_found_at_its_seq(some_events, edit):
    """The body and the columns changed together (the CHECK constraint allows it): the hash
    no longer matches, whichever of the two the edit started from."""
    some_events(5)
    row = next(r for r in iter_db_rows(3, 3))
    forged = canonical_bytes({**row, "target_label": "forged"}).decode()
    tamper_sql(
        "UPDATE audit_auditevent SET target_label = 'forged', body = %s WHERE seq = 3", [forged]
    )
    report = verify_chain()
    assert (report.ok, report.broken_seq, report.problem) == (False, 3, "hash_mismatch")


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgresql_refuses_a_column_edited_without_its_body(some_events):
    from django.db import IntegrityError

    some_events(3)
    with pytest.raises(IntegrityError, match="body_matches_columns"), transaction.atomic():
        tamper_sql("UPDATE audit_auditevent SET target_label = 'forged' WHERE seq = 2")


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_without_the_body_constraint_every_row_is_rebuilt_from_its_columns(some_events):
    """Dropping the constraint to edit a column behind its body does not get past the
    verifier: it stops trusting bodies and checks every row from its columns."""
    from audit.pgverify import BODY_CONSTRAINT

    some_events(4)
    tamper_sql(f"ALTER TABLE audit_auditevent DROP CONSTRAINT {BODY_CONSTRAINT}")
    tamper_sql("UPDATE audit_auditevent SET outcome = 'failure' WHERE seq = 3")
    report = verify_chain()
    assert (report.ok, report.broken_seq, report.problem) == (False, 3, "hash_mismatch")


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_a_replaced_canonical_function_is_not_trusted_either(some_events):
    """The constraint calls steward_audit_canonical(); an owner who rewrites that function to
    let a column edit through has not fooled the verifier: it checks the function's source."""
    from audit.pgverify import CANONICAL_FUNCTION, bodies_trusted

    some_events(4)
    with connection.cursor() as cursor:
        assert bodies_trusted(cursor)  # as migrated
    tamper_sql(
        f"CREATE OR REPLACE FUNCTION {CANONICAL_FUNCTION}(action text, actor_id text, "  # noqa: S608
        "actor_label text, actor_type text, changes json, context json, occurred_at "
        "timestamptz, outcome text, prev_hash text, seq bigint, target_id text, target_label "
        "text, target_type text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS "
        "$f$ BEGIN RETURN (SELECT body FROM audit_auditevent e WHERE e.seq = $10); END $f$"
    )
    tamper_sql("UPDATE audit_auditevent SET outcome = 'failure' WHERE seq = 3")
    with connection.cursor() as cursor:
        assert not bodies_trusted(cursor)
    report = verify_chain()
    assert (report.ok, report.broken_seq, report.problem) == (False, 3, "hash_mismatch")


def test_a_deleted_row_is_a_gap(some_events):
    some_events(5)
    tamper_sql("DELETE FROM audit_auditevent WHERE seq = 4")
    report = verify_chain()
    assert (report.ok, report.broken_seq, report.problem) == (False, 4, "gap")


def _rewrite_from(seq: int) -> None:
    """Change event ``seq`` and recompute every later hash — a superuser's perfect forgery."""
    rows = list(iter_db_rows())
    prev = rows[seq - 2]["hash"] if seq > 1 else GENESIS_HASH
    for row in rows[seq - 1 :]:
        if row["seq"] == seq:
            row["target_label"] = "forged"
        row["prev_hash"] = prev
        row["hash"] = event_hash(row)
        tamper_sql(
            "UPDATE audit_auditevent SET target_label = %s, prev_hash = %s, hash = %s, "
            "body = %s WHERE seq = %s",
            [
                row["target_label"],
                row["prev_hash"],
                "x" + row["hash"][1:],
                canonical_bytes(row).decode(),
                row["seq"],
            ],
        )
        prev = row["hash"]
    # Two passes: hash is unique, so first park temporary values, then write the real ones.
    for row in rows[seq - 1 :]:
        tamper_sql(
            "UPDATE audit_auditevent SET hash = %s WHERE seq = %s", [row["hash"], row["seq"]]
        )
    tamper_sql("UPDATE audit_chainhead SET hash = %s", [prev])


def test_a_full_rewrite_is_caught_by_a_checkpoint_kept_outside(
    make_checkpoint, some_events, tmp_path
):
    some_events(4)
    checkpoint = make_checkpoint()
    outside = tmp_path / "ci-copy.json"
    shutil.copy(checkpoint_path(checkpoint), outside)
    some_events(2)

    _rewrite_from(2)
    # The attacker also removes the checkpoints in the database and the published copies.
    tamper_sql("DELETE FROM audit_checkpoint")
    shutil.rmtree(checkpoint_path(checkpoint).parent)
    assert verify_chain().ok, "hashes were recomputed: the chain alone cannot tell"

    report = verify_chain(checkpoint_files=[outside])
    assert not report.ok
    assert report.problem == "checkpoint_mismatch"
    assert report.broken_seq == 4
    assert "rewritten" in report.reason


def test_a_copy_saved_from_the_checkpoints_api_is_held_against_the_chain(
    make_checkpoint, auditor, bearer, some_events, tmp_path, settings
):
    """README: keep copies with `curl .../audit/checkpoints/ > checkpoints.json`, verify with
    `audit_verify --checkpoint`. The saved page is read, not refused as a bad document."""
    client = bearer(auditor, "audit:read")
    some_events(4)
    make_checkpoint()
    some_events(1)
    make_checkpoint()
    page = client.get("/api/v1/audit/checkpoints/")
    assert page.status_code == 200
    copy = tmp_path / "checkpoints.json"
    copy.write_bytes(page.content)

    out = StringIO()
    call_command("audit_verify", "--checkpoint", str(copy), stdout=out)
    assert "OK: seq 1..6 verified" in out.getvalue()

    _rewrite_from(2)
    tamper_sql("DELETE FROM audit_checkpoint")
    shutil.rmtree(settings.STEWARD_AUDIT_CHECKPOINT_DIR)
    report = verify_chain(checkpoint_files=[copy])
    assert (report.ok, report.problem) == (False, "checkpoint_mismatch"), report.reason
    assert report.broken_seq == 5


def test_a_truncated_chain_is_caught_by_a_checkpoint(make_checkpoint, some_events, tmp_path):
    some_events(4)
    checkpoint = make_checkpoint()
    outside = tmp_path / "copy.json"
    shutil.copy(checkpoint_path(checkpoint), outside)
    tamper_sql("DELETE FROM audit_auditevent WHERE seq >= 3")
    tamper_sql("DELETE FROM audit_checkpoint")
    report = verify_chain(checkpoint_files=[outside], use_published=False)
    assert (report.ok, report.problem, report.broken_seq) == (False, "checkpoint_mismatch", 3)
    assert "removed" in report.reason


def test_a_forged_checkpoint_has_a_bad_signature(make_checkpoint, some_events, tmp_path):
    some_events(3)
    checkpoint = make_checkpoint()
    forged = json.loads(checkpoint_path(checkpoint).read_text())
    forged["head_hash"] = "f" * 64
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(forged))
    report = verify_chain(checkpoint_files=[path])
    assert (report.ok, report.problem, report.broken_seq) == (False, "bad_signature", 3)


def run_periodic(make_checkpoint):
    """What the beat task does (audit.services.checkpoint_periodic), publication included."""
    from audit.checkpoints import publish_missing_checkpoints

    checkpoint = make_checkpoint()
    publish_missing_checkpoints()
    return checkpoint


def test_checkpoints_chain_and_are_published_once(make_checkpoint, some_events, audit_dirs):
    some_events(2)
    first = run_periodic(make_checkpoint)
    assert run_periodic(make_checkpoint) == first, "no new events: no new checkpoint"
    some_events(1)
    second = run_periodic(make_checkpoint)
    assert second.seq == 3
    assert second.prev_checkpoint_hash == first.checkpoint_hash
    documents = published_documents()
    assert [d["seq"] for d in documents] == [2, 3]
    assert documents[1]["key_id"] == signing_key().key_id


def test_old_checkpoints_verify_after_a_key_rotation(make_checkpoint, some_events, settings):
    some_events(2)
    old_key_id = make_checkpoint().key_id
    new_key = Ed25519PrivateKey.generate()
    settings.STEWARD_AUDIT_SIGNING_KEY = new_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    some_events(1)
    new_key_id = make_checkpoint().key_id
    assert new_key_id != old_key_id
    report = verify_chain()
    assert report.ok, report.reason
    assert report.checkpoints_checked == 2


def test_the_command_reports_ok_and_failure(make_checkpoint, some_events, tmp_path):
    some_events(3)
    checkpoint = make_checkpoint()
    out = StringIO()
    call_command("audit_verify", "--checkpoint", str(checkpoint_path(checkpoint)), stdout=out)
    assert "OK: seq 1..3 verified" in out.getvalue()
    tamper_sql("UPDATE audit_auditevent SET action = 'x', body = NULL WHERE seq = 2")
    out = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("audit_verify", stdout=out)
    assert exit_info.value.code == 1
    assert "FAILED at seq 2: hash mismatch" in out.getvalue()


def test_the_api_reports_the_verified_range(make_checkpoint, auditor, viewer, bearer, some_events):
    client = bearer(auditor, "audit:read")  # records api_token.created: seq 1
    some_events(3)
    make_checkpoint()
    response = client.get("/api/v1/audit/verify/")
    assert response.status_code == 200
    body = response.json()
    assert (body["ok"], body["first_seq"], body["last_seq"]) == (True, 1, 4)
    assert body["last_checkpoint"]["seq"] == 4
    assert bearer(auditor, "registry:read").get("/api/v1/audit/verify/").status_code == 403
    assert bearer(viewer, "audit:read").get("/api/v1/audit/verify/").status_code == 403


def test_the_api_reports_the_first_broken_seq(auditor, bearer, some_events):
    some_events(4)
    tamper_sql("UPDATE audit_auditevent SET outcome = 'failure', body = NULL WHERE seq = 2")
    body = bearer(auditor, "audit:read").get("/api/v1/audit/verify/").json()
    assert (body["ok"], body["broken_seq"], body["problem"]) == (False, 2, "hash_mismatch")


def test_checkpoints_and_keys_are_published_by_the_api(
    make_checkpoint, auditor, bearer, some_events
):
    some_events(2)
    make_checkpoint()
    client = bearer(auditor, "audit:read")
    checkpoints = client.get("/api/v1/audit/checkpoints/").json()["results"]
    assert checkpoints[0]["seq"] == 2 and checkpoints[0]["signature"]
    keys = client.get("/api/v1/audit/keys/").json()
    assert keys[0]["key_id"] == checkpoints[0]["key_id"]
    assert keys[0]["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert connection.vendor in ("sqlite", "postgresql")


TRICKY_CHANGES = [
    {"plain": "ascii", "n": 3, "ok": True, "none": None, "list": [1, "two", [3]]},
    {"float": 1.5, "whole_float": 2.0, "tiny": 1e-7, "third": 1 / 3, "big": 7.5e23},
    {"neg": -(2**53) + 1, "edge": 2**53 - 1, "small": 12345678901234},
    {"unicode": "é ☃ 𝄞", "ctl": 'a\u0001b\nc\t"q"\\\x7f\u2028/', "\ue000key": 1, "z": 2, "é": 3},
    {"digits_in_text": "1234567890123456789", "e": "e.E"},
    {"controls": "".join(chr(c) for c in range(1, 32)), "": "empty key"},
    {},
]


def _record_tricky_events() -> None:
    from django.db import transaction

    from audit.services import record_event

    with transaction.atomic():
        for changes in TRICKY_CHANGES:
            record_event(actor="walk", action="test.walk", changes=changes, context={"x": 1.25})
        record_event(actor='ünï "q"\\', action="test.walk", target=("a.b", "ø\t", "label ☃"))


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgresql_rebuilds_exactly_the_canonical_bytes_of_every_event():
    """The set-based verifier's SQL (audit.pgverify) against the definition, canonical_bytes."""
    from audit.pgverify import CANONICAL_SQL

    _record_tricky_events()
    expected = [(row["seq"], canonical_bytes(row)) for row in iter_db_rows()]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT seq, convert_to({CANONICAL_SQL}, 'UTF8') FROM audit_auditevent ORDER BY seq"  # noqa: S608
        )
        rebuilt = [(seq, bytes(data)) for seq, data in cursor.fetchall()]
        # The body constraint's function (migration 0008) gives the same text.
        cursor.execute(
            "SELECT seq, convert_to(steward_audit_canonical(action, actor_id, actor_label, "
            "actor_type, changes, context, occurred_at, outcome, prev_hash, seq, target_id, "
            "target_label, target_type), 'UTF8') FROM audit_auditevent ORDER BY seq"
        )
        from_function = [(seq, bytes(data)) for seq, data in cursor.fetchall()]
    assert rebuilt == expected
    assert from_function == expected
    assert verify_chain().ok


def test_every_event_keeps_the_bytes_its_hash_covers():
    import hashlib

    from audit.models import AuditEvent

    _record_tricky_events()
    expected = {row["seq"]: canonical_bytes(row) for row in iter_db_rows()}
    stored = dict(AuditEvent.objects.values_list("seq", "body"))
    assert {seq: body.encode() for seq, body in stored.items()} == expected
    for event in AuditEvent.objects.all():
        assert hashlib.sha256(event.body.encode()).hexdigest() == event.hash


def test_tricky_values_verify_and_an_edit_inside_a_json_column_is_found():
    _record_tricky_events()
    assert verify_chain().ok
    tamper_sql(
        "UPDATE audit_auditevent SET changes = %s, body = NULL WHERE seq = 4",
        ['{"ctl":"changed","unicode":"é ☃ 𝄞","z":2,"é":3,"\ue000key":1}'],
    )
    report = verify_chain()
    assert (report.ok, report.broken_seq, report.problem) == (False, 4, "hash_mismatch")
    assert report.last_seq == 3


def test_json_spelled_otherwise_but_equal_still_verifies():
    """Rows from before the JSON columns kept canonical text hold jsonb's spelling (spaces,
    its own key order): the set-based check flags them, the definition clears them."""
    _record_tricky_events()
    for row in list(iter_db_rows(2, 5)):
        context = dict(reversed(list(row["context"].items())))
        respelled = json.dumps(context, indent=1).replace("1.25", "1.250")
        assert respelled.encode() != canonicalize(context)
        tamper_sql(
            "UPDATE audit_auditevent SET context = %s, body = NULL WHERE seq = %s",
            [respelled, row["seq"]],
        )
    report = verify_chain()
    assert report.ok, report.reason
    assert report.count == len(TRICKY_CHANGES) + 1


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("{not json", "not valid JSON"),
        ("", "not valid JSON"),
        ("42", "not a Steward checkpoint document"),
        ('{"hello": "world"}', "not a Steward checkpoint document"),
        ('[{"type": "steward.audit.checkpoint"}]', "item 0: checkpoint lacks"),
        ('{"results": "nope"}', "'results' is not a list"),
    ],
)
def test_a_checkpoint_file_that_is_no_checkpoint_is_a_usage_error(
    make_checkpoint, some_events, tmp_path, content, says
):
    """Not "FAILED at seq 0" (exit 1, a broken chain): exit 2 naming the file and the fault."""
    some_events(2)
    make_checkpoint()
    bad = tmp_path / "copy.json"
    bad.write_text(content)
    with pytest.raises(CommandError) as refused:
        call_command("audit_verify", "--checkpoint", str(bad), stdout=StringIO())
    assert refused.value.returncode == 2
    assert str(bad) in str(refused.value) and says in str(refused.value)


def test_the_command_exits_2_on_a_bad_checkpoint_file(tmp_path, capsys):
    """As run from a shell (manage.py): the exit status and message README documents."""
    from audit.management.commands.audit_verify import Command

    def run(path):
        # run_from_argv is what manage.py calls; system checks are not what this is about.
        Command().run_from_argv(
            ["manage.py", "audit_verify", "--skip-checks", "--checkpoint", path]
        )

    bad = tmp_path / "copy.json"
    bad.write_text("{not json")
    with pytest.raises(SystemExit) as exit_info:
        run(str(bad))
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert f"{bad} is not a checkpoint file: not valid JSON" in captured.err
    assert "FAILED" not in captured.out
    missing = tmp_path / "nowhere.json"
    with pytest.raises(SystemExit) as exit_info:
        run(str(missing))
    assert exit_info.value.code == 2
