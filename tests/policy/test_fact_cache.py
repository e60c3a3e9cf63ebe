"""The per-process fact cache of the check path serves exactly what the database holds."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from policy.factcache import WATCHED_TABLES, expected_triggers, facts_cache, read_token
from policy.facts import DeploymentSpec, facts_for_spec
from policy.models import Mode, Policy, Region, UseCase, Waiver, WaiverStatus
from policy.services import check_spec
from policy.services.decisions import decide
from registry.models import Approval, EvalResult, License, RiskAssessment
from registry.models import Decision as ApprovalDecision
from tests.policy.factories import EvalResultFactory, approved_version


def _spec(**overrides: object) -> DeploymentSpec:
    fields: dict[str, object] = {
        "model": "cached",
        "environment": "prod",
        "region": "eu-west-1",
        "use_case": "document-translation",
        "data_classification": ["internal"],
    }
    fields.update(overrides)
    return DeploymentSpec(**fields)  # type: ignore[arg-type]


def _check(**overrides: object):
    return check_spec(actor="test", spec=_spec(**overrides), source="test")


def _installed_triggers() -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db
def test_every_watched_table_has_its_trigger_after_all_migrations():
    assert expected_triggers(connection.vendor) <= _installed_triggers()
    assert len(WATCHED_TABLES) == 12


@pytest.mark.django_db
def test_a_write_to_any_watched_table_changes_the_token(packs):
    version = approved_version(slug="cached")
    before = read_token()
    EvalResult.objects.filter(version=version).update(value=71.0)
    after_eval = read_token()
    Region.objects.filter(code="eu-west-1").update(name="Ireland")
    after_region = read_token()
    assert len({before, after_eval, after_region}) == 3


@pytest.mark.django_db
def test_a_check_sees_every_kind_of_change_at_once(packs):
    version = approved_version(slug="cached", evals={"mmlu": 70.0})
    first = _check()
    assert first.verdict == "allow"
    assert first.input["version"]["evals"] == {"mmlu": 70.0}

    EvalResultFactory(version=version, benchmark="gsm8k", value=80.0)
    assert _check().input["version"]["evals"] == {"mmlu": 70.0, "gsm8k": 80.0}

    License.objects.filter(pk=version.model.license_id).update(category="non_commercial")
    assert _check().input["license"]["category"] == "non_commercial"

    RiskAssessment.objects.filter(version=version).update(eu_ai_act_class="high")
    assert _check().input["risk"]["eu_ai_act_class"] == "high"

    Region.objects.filter(code="eu-west-1").update(jurisdiction="US")
    assert _check().input["region"]["jurisdiction"] == "US"

    UseCase.objects.filter(slug="document-translation").update(eu_ai_act_class="high")
    assert _check().input["use_case"]["eu_ai_act_class"] == "high"

    Policy.objects.update(mode=Mode.AUDIT)
    assert {e["mode"] for e in _check().evaluated} == {Mode.AUDIT}

    Approval.objects.filter(pk=version.current_approval_id).update(
        decision=ApprovalDecision.REVOKED
    )
    denied = _check()
    assert denied.input["approval"]["in_force"] is False


@pytest.mark.django_db
def test_an_expiring_approval_takes_effect_without_any_write(packs):
    version = approved_version(slug="cached")
    assert _check().verdict == "allow"
    Approval.objects.filter(pk=version.current_approval_id).update(
        expires_at=timezone.now() + timedelta(seconds=1)
    )
    assert _check().verdict == "allow"
    later = timezone.now() + timedelta(seconds=2)
    generation = facts_cache.current()
    facts = facts_for_spec(_spec(), later, generation)
    assert facts.input["approval"]["in_force"] is False
    assert decide(facts, now=later, generation=generation).verdict == "deny"


@pytest.mark.django_db
def test_an_approved_waiver_applies_to_the_next_check(packs, approver, owner):
    version = approved_version(slug="cached", conditions={"jurisdictions": ["EU"]})
    denied = _check(region="us-east-1")
    assert denied.verdict == "deny"
    rule = denied.violations[0]
    Waiver.objects.create(
        policy=Policy.objects.get(slug=rule["policy"]),
        rule_id=rule["rule"],
        model_version=version,
        justification="test",
        expires_at=timezone.now() + timedelta(days=1),
        status=WaiverStatus.APPROVED,
        requested_by=owner,
        decided_by=approver,
    )
    waived = _check(region="us-east-1")
    assert (rule["policy"], rule["rule"]) in [(w["policy"], w["rule"]) for w in waived.waived]
    assert waived.verdict == "allow"


@pytest.mark.django_db
def test_a_rolled_back_change_is_never_served_afterwards(packs):
    approved_version(slug="cached")
    assert _check().input["region"]["jurisdiction"] == "EU"
    with pytest.raises(RuntimeError), transaction.atomic():
        Region.objects.filter(code="eu-west-1").update(jurisdiction="US")
        # Cached inside the transaction, under a token that the rollback throws away.
        assert _check().input["region"]["jurisdiction"] == "US"
        raise RuntimeError("roll back")
    assert _check().input["region"]["jurisdiction"] == "EU"


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_by_another_connection_is_seen_by_the_next_check(packs):
    approved_version(slug="cached")
    assert _check().input["region"]["jurisdiction"] == "EU"

    def elsewhere() -> None:
        try:
            Region.objects.filter(code="eu-west-1").update(jurisdiction="US")
        finally:
            connections.close_all()

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    assert _check().input["region"]["jurisdiction"] == "US"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_writers_to_watched_tables_do_not_queue_on_the_token(packs):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL: row locks on the token slots")
    approved_version(slug="cached")
    approved_version(slug="other")
    holding = threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []

    def first_writer() -> None:
        try:
            with transaction.atomic():
                EvalResult.objects.filter(version__model__slug="cached").update(value=1.0)
                holding.set()
                release.wait(10)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=first_writer)
    thread.start()
    try:
        assert holding.wait(10)
        with transaction.atomic(), connection.cursor() as cursor:
            # Would wait for the first writer's commit if both needed the same token row.
            cursor.execute("SET LOCAL lock_timeout = '2s'")
            EvalResult.objects.filter(version__model__slug="other").update(value=2.0)
    finally:
        release.set()
        thread.join()
    assert not errors
