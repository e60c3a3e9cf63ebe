"""Input the API fuzzer (tests/fuzz) found answering 500: each is now a clear 4xx."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.policy.factories import approved_version

pytestmark = pytest.mark.django_db

# '²' passes str.isdigit() but int() refuses it; the others are ids no database stores.
NOT_AN_ID = ["²", "9" * 30, "1" + "0" * 5000]


@pytest.fixture
def reader(bearer, approver):
    return bearer(approver, "policy:check", "policy:write")


@pytest.mark.parametrize("reference", NOT_AN_ID)
def test_a_deployment_reference_that_is_no_id_is_404(reader, reference):
    response = reader.get(f"/api/v1/policy/deployments/{reference}/")
    assert response.status_code == 404, response.content
    assert response.json()["error"]["code"] == "not_found"


def test_a_deployment_is_still_found_by_its_numeric_id(reader, make_deployment, catalog):
    deployment = make_deployment(approved_version(slug="by-id"))
    response = reader.get(f"/api/v1/policy/deployments/{deployment.pk}/")
    assert response.status_code == 200
    assert response.json()["slug"] == deployment.slug


@pytest.mark.parametrize("reference", NOT_AN_ID[:2])
def test_checking_a_deployment_reference_that_is_no_id_is_422(reader, reference):
    response = reader.post("/api/v1/policy/check", {"deployment": reference}, format="json")
    assert response.status_code == 422, response.content
    assert "deployment" in response.json()["error"]["fields"]


@pytest.mark.parametrize("against", ["²", "x", "-1", "9" * 30])
def test_a_diff_against_something_that_is_no_version_number_is_400(reader, approver, against):
    from policy.services import policy_create, version_create_draft

    policy = policy_create(actor=approver, slug="diffed", name="Diffed", mode="enforce")
    version_create_draft(actor=approver, policy=policy)
    response = reader.get(f"/api/v1/policy/policies/diffed/versions/1/diff?against={against}")
    assert response.status_code == 400, response.content
    assert "against" in response.json()["error"]["fields"]


def test_a_new_draft_from_a_version_that_is_no_number_is_refused_in_the_ui(client, approver):
    from policy.services import policy_create

    policy_create(actor=approver, slug="ui-draft", name="UI draft", mode="enforce")
    client.force_login(approver)
    response = client.post("/policies/ui-draft/versions/new", {"from": "²"})
    assert response.status_code == 302
    assert response["Location"].endswith("/policies/ui-draft/")


@pytest.mark.parametrize("mau", [2**62, 2**63, 2**70])
def test_an_expected_audience_beyond_any_json_number_is_400(bearer, owner, catalog, mau):
    # Past 2**53 the audit event of the deployment could not be hashed (RFC 8785): a 500.
    approved_version(slug="big-audience")
    response = bearer(owner, "policy:write").post(
        "/api/v1/policy/deployments/",
        {
            "slug": "big",
            "model": "big-audience",
            "environment": "prod",
            "region": "eu-west-1",
            "hosting": "self_hosted",
            "use_case": "document-translation",
            "expected_mau": mau,
        },
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "expected_mau" in response.json()["error"]["fields"]


def test_the_service_refuses_an_expected_audience_beyond_the_limit(make_deployment, catalog):
    from config.exceptions import DomainError
    from policy.services.deployments import MAX_EXPECTED_MAU

    version = approved_version(slug="svc-audience")
    assert make_deployment(version, expected_mau=MAX_EXPECTED_MAU).expected_mau == MAX_EXPECTED_MAU
    with pytest.raises(DomainError) as refused:
        make_deployment(version, expected_mau=MAX_EXPECTED_MAU + 1)
    assert "expected_mau" in refused.value.fields


@pytest.mark.parametrize(
    "params",
    [{"limit": 2**53}, {"nested": [{"n": -(2**60)}]}, {"k": "a\x00b"}, {"k\x00": 1}],
)
def test_parameters_json_or_postgresql_cannot_hold_are_400(bearer, approver, params):
    # Big integers broke the version's audit event (RFC 8785 canonical JSON), and NUL
    # characters PostgreSQL's jsonb: both were 500s.
    from policy.services import policy_create, version_create_draft

    policy = policy_create(actor=approver, slug="params", name="Params", mode="enforce")
    version_create_draft(actor=approver, policy=policy)
    response = bearer(approver, "policy:write").patch(
        "/api/v1/policy/policies/params/versions/1/", {"params": params}, format="json"
    )
    assert response.status_code == 400, response.content
    assert "params" in response.json()["error"]["fields"]


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_parameters_with_nan_or_infinity_are_a_form_error_on_the_page(client, approver, value):
    # Python's json.loads reads them; PostgreSQL's jsonb refuses them: the page was a 500.
    from policy.models import PolicyVersion
    from policy.services import policy_create, version_create_draft

    policy = policy_create(actor=approver, slug="params", name="Params", mode="enforce")
    version_create_draft(actor=approver, policy=policy)
    client.force_login(approver)
    response = client.post(
        reverse("policy:version-params", args=["params", 1]),
        {"params": f'{{"threshold": {value}}}', "notes": ""},
    )
    assert response.status_code == 400
    assert "no NaN or Infinity" in response.content.decode()
    assert PolicyVersion.objects.get(policy=policy, number=1).params == {}


@pytest.mark.parametrize("depth", [100, 900])
def test_parameters_nested_too_deep_are_refused_by_the_service(approver, depth):
    # Hashing and saving walk params recursively: a few hundred levels was a RecursionError.
    from config.exceptions import DomainError
    from policy.services import policy_create, version_create_draft, version_update

    policy = policy_create(actor=approver, slug="deep", name="Deep", mode="enforce")
    draft = version_create_draft(actor=approver, policy=policy)
    params: dict = {"a": 1}
    for _ in range(depth):
        params = {"a": params}
    with pytest.raises(DomainError) as refused:
        version_update(actor=approver, version=draft, params=params)
    assert "params" in refused.value.fields


def test_parameters_nested_too_deep_are_a_form_error_in_the_ui(client, approver):
    from policy.services import policy_create, version_create_draft

    policy = policy_create(actor=approver, slug="deep-ui", name="Deep", mode="enforce")
    version_create_draft(actor=approver, policy=policy)
    client.force_login(approver)
    for depth in (900, 50_000):
        params = '{"a": ' * depth + "1" + "}" * depth
        response = client.post("/policies/deep-ui/v1/params", {"params": params, "notes": ""})
        assert response.status_code == 400, depth
        assert b"deep" in response.content


def test_parameters_with_ordinary_numbers_are_saved(bearer, approver):
    from policy.services import policy_create, version_create_draft

    policy = policy_create(actor=approver, slug="params", name="Params", mode="enforce")
    version_create_draft(actor=approver, policy=policy)
    params = {"limit": 2**53 - 1, "ratio": 0.5, "names": ["a"], "on": True}
    response = bearer(approver, "policy:write").patch(
        "/api/v1/policy/policies/params/versions/1/", {"params": params}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["params"] == params


@pytest.mark.parametrize(
    "value, status",
    [("2000-01-01T12:00:00+18:23", 200), ("0001-01-01T00:00:00+18:00", 400)],
)
def test_decision_time_filters_are_read_in_utc(reader, value, status):
    # +18:23 is a valid offset for Python but not for PostgreSQL (DataError: 500); the
    # second has no UTC equivalent at all (OverflowError: 500).
    response = reader.get("/api/v1/policy/decisions/", {"after": value})
    assert response.status_code == status, response.content
