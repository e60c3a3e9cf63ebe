from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from policy.models import Decision
from tests.policy.factories import EvalResultFactory, approved_version

pytestmark = pytest.mark.django_db

CHECK = "/api/v1/policy/check"


@pytest.fixture
def ci(bearer, make_user):
    return bearer(make_user("ci", ["viewer"], is_service_account=True), "policy:check")


def spec(**overrides):
    body = {
        "model": "llama-test",
        "environment": "prod",
        "region": "eu-west-1",
        "use_case": "document-translation",
        "data_classification": ["internal"],
    }
    body.update(overrides)
    return body


def test_it_allows_a_compliant_inline_spec_and_stores_the_decision(packs, version, ci):
    response = ci.post(CHECK, spec(), format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["decision"] == "allow"
    assert body["violations"] == []
    assert {e["policy"] for e in body["evaluated"]} == {
        "acceptable-use",
        "data-residency",
        "model-approval",
        "eval-gates",
    }
    assert all(len(e["sha256"]) == 64 and e["mode"] == "enforce" for e in body["evaluated"])
    decision = Decision.objects.get(decision_id=body["decision_id"])
    assert decision.verdict == "allow"
    assert decision.input["region"]["jurisdiction"] == "EU"
    assert decision.actor.username == "ci"
    event = AuditEvent.objects.get(action="decision.allowed")
    assert event.changes["decision_id"] == body["decision_id"]
    assert event.actor_type == "token"


def test_it_denies_with_reasons_and_records_a_denied_event(packs, ci):
    approved_version(slug="eu-only", conditions={"jurisdictions": ["EU"]})
    response = ci.post(
        CHECK,
        spec(
            model="eu-only",
            region="us-east-1",
            use_case="customer-support-chatbot",
            data_classification=["pii"],
        ),
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["decision"] == "deny"
    rules = {(v["policy"], v["rule"]) for v in body["violations"]}
    assert ("model-approval", "approval-region") in rules
    assert ("data-residency", "personal-data-eu-residency") in rules
    message = next(v["message"] for v in body["violations"] if v["rule"] == "approval-region")
    assert "us-east-1 is in US" in message
    assert set(body["violations"][0]) >= {"policy", "policy_version", "rule", "severity", "message"}
    assert AuditEvent.objects.filter(action="decision.denied", outcome="denied").count() == 1
    assert Decision.objects.get(decision_id=body["decision_id"]).verdict == "deny"


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"model": "no-such-model"}, "model"),
        ({"region": "mars-north-1"}, "region"),
        ({"use_case": "fortune-telling"}, "use_case"),
        ({"version": "9.9.9"}, "version"),
        ({"data_classification": ["secret-sauce"]}, "data_classification"),
    ],
)
def test_unknown_names_are_a_422_naming_the_field(packs, version, ci, override, field):
    response = ci.post(CHECK, spec(**override), format="json")
    assert response.status_code == 422
    assert field in response.json()["error"]["fields"]
    assert Decision.objects.count() == 0


def test_a_missing_field_is_a_400(packs, version, ci):
    response = ci.post(CHECK, {"model": "llama-test"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"environment", "region"}


def test_check_needs_the_policy_check_scope(packs, version, bearer, viewer):
    response = bearer(viewer, "registry:read").post(CHECK, spec(), format="json")
    assert response.status_code == 403
    assert "policy:check" in response.json()["error"]["message"]


def test_ping_authenticates_and_does_nothing(ci, bearer, viewer, api_client):
    assert ci.get("/api/v1/policy/ping").json() == {"ok": True}
    assert api_client.get("/api/v1/policy/ping").status_code == 401
    assert bearer(viewer, "policy:write").get("/api/v1/policy/ping").status_code == 403


def test_the_stored_decision_can_be_read_back(packs, version, ci):
    decision_id = ci.post(CHECK, spec(), format="json").json()["decision_id"]
    response = ci.get(f"/api/v1/policy/decisions/{decision_id}")
    assert response.status_code == 200
    body = response.json()
    assert body["decision"] == "allow"
    assert body["input"]["model"]["slug"] == "llama-test"
    assert ci.get("/api/v1/policy/decisions/dec_nope").status_code == 404


def test_a_check_by_deployment_slug_or_id(packs, version, make_deployment, ci):
    deployment = make_deployment(version, slug="translator")
    for reference in ("translator", str(deployment.pk)):
        response = ci.post(CHECK, {"deployment": reference}, format="json")
        assert response.status_code == 200
        assert response.json()["decision"] == "allow"
    assert ci.post(CHECK, {"deployment": "nope"}, format="json").status_code == 422


def test_the_number_of_queries_per_check_is_constant(packs, ci, make_user):
    small = approved_version(slug="small", evals={"mmlu": 70.0})
    big = approved_version(slug="big", conditions={"jurisdictions": ["EU"]})
    for i in range(20):
        EvalResultFactory(version=big, benchmark=f"bench-{i}", value=50.0 + i)

    def queries(model):
        with CaptureQueriesContext(connection) as ctx:
            response = ci.post(CHECK, spec(model=model), format="json")
        assert response.status_code == 200
        return len(ctx.captured_queries)

    approved_version(slug="other")
    queries("other")  # fills the catalogs, the active policies and the waivers
    cold = [queries("small"), queries("big")]
    warm = [queries("small"), queries("big")]
    assert cold[0] == cold[1] and warm[0] == warm[1], (cold, warm)
    # Warm: the API token with the fact-cache token (1), then the decision and its audit
    # event. PostgreSQL: one statement writes both (no transaction needed) = 2, and the
    # durability barrier after the commit (3 in production; a test's transaction never
    # commits). SQLite: in a transaction (a savepoint here), decision insert, head read,
    # event insert, head update = 7.
    assert warm[0] <= (2 if connection.vendor == "postgresql" else 7), warm
    # Cold adds the model's versions and their evals (2).
    assert cold[0] == warm[0] + 2, (cold, warm)
    assert small.pk != big.pk


def test_the_stored_decision_row_holds_exactly_what_the_service_returned(packs, version, ci):
    from policy.facts import DeploymentSpec
    from policy.models import Decision as DecisionRow
    from policy.services import check_spec

    made = check_spec(
        actor="ci", spec=DeploymentSpec(**spec(data_classification=["pii"])), source="test"
    )
    stored = DecisionRow.objects.get(pk=made.pk)
    for field in DecisionRow._meta.concrete_fields:
        assert getattr(stored, field.attname) == getattr(made, field.attname), field.name
    assert stored.input["data"]["personal"] is True and stored.evaluated


def test_a_stored_decision_stays_whole_in_its_row(packs, version, ci):
    """PostgreSQL keeps a decision row as it is up to 8 kB (migration policy 0003): no
    compression or TOAST insert per check."""
    if connection.vendor != "postgresql":
        pytest.skip("TOAST is PostgreSQL's")

    def stored() -> tuple[str | None, int]:
        response = ci.post(CHECK, spec(data_classification=["pii"]), format="json")
        assert response.status_code == 200
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_column_compression(input), pg_column_size(d.*) "
                "FROM policy_decision d WHERE decision_id = %s",
                [response.json()["decision_id"]],
            )
            return cursor.fetchone()  # type: ignore[no-any-return]

    compression, row_size = stored()
    assert compression is None and row_size > 2100  # past PostgreSQL's default threshold
    with connection.cursor() as cursor:  # rolled back with the test
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # fire the pending FK checks first
        cursor.execute("ALTER TABLE policy_decision RESET (toast_tuple_target)")
    assert stored()[0] is not None  # what the default would do


def test_the_registry_facts_endpoint_shows_what_rules_read(packs, version, ci, bearer, make_user):
    """``GET /model-versions/{id}/facts/`` is the registry part of the input document, field
    for field: a rule written against it reads the same names and values."""
    EvalResultFactory(version=version, benchmark="HumanEval", metric="pass@1", value=71.0)
    EvalResultFactory(version=version, benchmark="HumanEval", metric="pass@10", value=88.0)
    decision_id = ci.post(CHECK, spec(), format="json").json()["decision_id"]
    stored = Decision.objects.get(decision_id=decision_id).input
    reader = bearer(make_user("reader", ["viewer"]), "registry:read")
    facts = reader.get(f"/api/v1/model-versions/{version.pk}/facts/").json()
    assert set(facts) == {"model", "version", "license", "risk", "approval"}
    for part in facts:
        assert facts[part] == stored[part], part
    assert facts["version"]["evals"]["humaneval"] == 88.0  # the best metric of a benchmark
    assert facts["approval"]["status"] == "approved" and facts["approval"]["in_force"] is True
