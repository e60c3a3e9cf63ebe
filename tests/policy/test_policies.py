"""Authoring: rules validated at save and publish, immutability, hashes, enforce vs audit,
fail-closed evaluation, diff and simulation."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from config.exceptions import Conflict, DomainError, NotAllowed
from policy.engine import MAX_EXPRESSION_CHARS
from policy.facts import DeploymentSpec
from policy.models import Deployment, Policy
from policy.services import (
    check_spec,
    policy_create,
    policy_update,
    rule_create,
    rule_delete,
    rule_update,
    simulate_version,
    version_create_draft,
    version_publish,
    version_update,
)
from tests.policy.factories import approved_version

pytestmark = pytest.mark.django_db

BASE = "/api/v1/policy/policies"


@pytest.fixture
def writer(bearer, approver) -> APIClient:
    return bearer(approver, "policy:write")


def _spec(version, **kw):
    fields = {
        "model": version.model.slug,
        "environment": "prod",
        "region": "eu-west-1",
        "use_case": "document-translation",
        "data_classification": ["internal"],
    }
    fields.update(kw)
    return DeploymentSpec(**fields)


def _custom_policy(actor, expression, *, mode="enforce", severity="deny", params=None):
    policy = policy_create(actor=actor, slug="custom", name="Custom", mode=mode)
    draft = version_create_draft(actor=actor, policy=policy)
    draft.params = params or {}
    draft.save()
    rule_create(
        actor=actor,
        version=draft,
        rule_id="custom-rule",
        expression=expression,
        message="Custom rule failed for {model.slug} in {region.code}",
        severity=severity,
    )
    version_publish(actor=actor, version=draft, reevaluate=False)
    policy.refresh_from_db()
    return policy


def test_publish_refuses_bad_cel_naming_the_rule_and_position(writer, approver):
    assert writer.post(f"{BASE}/", {"slug": "p", "name": "P"}, format="json").status_code == 201
    draft = writer.post(f"{BASE}/p/versions/", {}, format="json").json()
    assert draft["number"] == 1 and draft["status"] == "draft"
    # The rule editor refuses it at save time already, with the position (the trailing
    # space is trimmed, so the expression ends at column 14).
    bad = {"rule_id": "broken", "expression": "region.code == ", "message": "m"}
    response = writer.post(f"{BASE}/p/versions/1/rules/", bad, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_cel"
    assert "broken" in error["message"] and "line 1, column 15" in error["message"]
    assert error["fields"]["expression"][0].startswith("line 1, column 15")
    # A message placeholder error is located in the template.
    bad_msg = {"rule_id": "m", "expression": "true", "message": "ok {region.code +} x"}
    response = writer.post(f"{BASE}/p/versions/1/rules/", bad_msg, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"]["message"][0].startswith("line 1, column 18")
    # A rule that somehow got stored with bad CEL is refused at publish, by name.
    from policy.models import Rule

    Rule.objects.create(version_id=draft_pk(), rule_id="sneaky", expression="1 +", message="m")
    response = writer.post(f"{BASE}/p/versions/1/publish", format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert "sneaky" in error["message"]
    assert "rules.sneaky.expression" in error["fields"]
    assert "line 1, column 4" in error["fields"]["rules.sneaky.expression"][0]


def draft_pk() -> int:
    from policy.models import PolicyVersion

    return PolicyVersion.objects.get(policy__slug="p", number=1).pk


def test_non_boolean_and_oversized_expressions_are_refused(approver, catalog):
    policy = policy_create(actor=approver, slug="p", name="P")
    draft = version_create_draft(actor=approver, policy=policy)
    with pytest.raises(DomainError, match="bool"):
        rule_create(actor=approver, version=draft, rule_id="r", expression="'a' + 'b'", message="m")
    with pytest.raises(DomainError, match="longer than"):
        rule_create(
            actor=approver,
            version=draft,
            rule_id="r",
            expression="true || " * (MAX_EXPRESSION_CHARS // 8 + 1) + "true",
            message="m",
        )
    with pytest.raises(DomainError, match=r"cel\.bind"):
        nested = "true"
        for i in range(5):
            nested = f"cel.bind(v{i}, 1, {nested})"
        rule_create(actor=approver, version=draft, rule_id="r", expression=nested, message="m")


def test_a_concurrent_create_of_the_same_policy_slug_is_a_409(writer, monkeypatch):
    from django.db.models import QuerySet

    body = {"slug": "twice", "name": "Twice"}
    assert writer.post(f"{BASE}/", body, format="json").status_code == 201
    # The other request's check ran before this one's insert: it saw no such slug.
    exists = QuerySet.exists
    monkeypatch.setattr(QuerySet, "exists", lambda qs: False if qs.model is Policy else exists(qs))
    response = writer.post(f"{BASE}/", body, format="json")
    assert response.status_code == 409, response.content
    assert Policy.objects.filter(slug="twice").count() == 1


def test_edits_from_a_copy_read_before_a_publish_cannot_change_the_published_version(
    approver, second_approver, catalog
):
    # Two editors: the second read the draft, the first published it, then the second saves.
    from policy.models import PolicyVersion

    policy = _custom_policy(approver, "true")
    draft = version_create_draft(actor=approver, policy=policy)
    stale = PolicyVersion.objects.get(pk=draft.pk)
    stale_rule = stale.rules.get()
    published = version_publish(actor=approver, version=draft, reevaluate=False)
    with pytest.raises(Conflict):
        version_update(actor=second_approver, version=stale, notes="late")
    with pytest.raises(Conflict):
        rule_create(
            actor=second_approver, version=stale, rule_id="late", expression="true", message="m"
        )
    with pytest.raises(Conflict):
        rule_update(actor=second_approver, rule=stale_rule, expression="false")
    with pytest.raises(Conflict):
        rule_delete(actor=second_approver, rule=stale_rule)
    again = PolicyVersion.objects.get(pk=draft.pk)
    assert again.is_published and again.sha256 == published.sha256
    assert [r.expression for r in again.rules.all()] == ["true"]


def test_a_published_version_is_immutable_and_hashed(writer, approver, catalog):
    policy = _custom_policy(approver, "true")
    version = policy.active_version
    assert len(version.sha256) == 64
    rule = version.rules.get()
    with pytest.raises(Conflict):
        rule_update(actor=approver, rule=rule, expression="false")
    response = writer.patch(
        f"{BASE}/custom/versions/1/rules/custom-rule/", {"expression": "false"}, format="json"
    )
    assert response.status_code == 409
    # A new draft copies the rules; publishing it moves the active pointer.
    v2 = version_create_draft(actor=approver, policy=policy)
    assert v2.number == 2 and v2.rules.count() == 1
    rule_update(actor=approver, rule=v2.rules.get(), expression="region.code != ''")
    v2 = version_publish(actor=approver, version=v2, reevaluate=False)
    policy.refresh_from_db()
    assert policy.active_version == v2
    assert v2.sha256 != version.sha256
    event = AuditEvent.objects.filter(action="policy.published").last()
    assert event.changes["sha256"] == v2.sha256 and event.changes["previous"] == 1
    diff = writer.get(f"{BASE}/custom/versions/2/diff").json()
    assert diff["changed"] == [
        {"rule_id": "custom-rule", "fields": {"expression": ["true", "region.code != ''"]}}
    ]
    assert any(line.startswith("+  expr: region.code") for line in diff["unified"])


def test_only_approvers_edit_policies(owner, catalog):
    with pytest.raises(NotAllowed):
        policy_create(actor=owner, slug="p", name="P")


def test_audit_mode_reports_but_never_blocks(approver, catalog):
    version = approved_version()
    policy = _custom_policy(approver, "region.jurisdiction != 'EU'", mode="audit")
    decision = check_spec(actor=approver, spec=_spec(version))
    assert decision.verdict == "allow"
    assert [f["rule"] for f in decision.audit_only] == ["custom-rule"]
    assert decision.audit_only[0]["message"] == (
        f"Custom rule failed for {version.model.slug} in eu-west-1"
    )
    assert decision.evaluated[0]["mode"] == "audit"
    policy_update(actor=approver, policy=policy, mode="enforce")
    decision = check_spec(actor=approver, spec=_spec(version))
    assert decision.verdict == "deny"
    assert [f["rule"] for f in decision.violations] == ["custom-rule"]


def test_warn_severity_warns_without_denying(approver, catalog):
    version = approved_version()
    _custom_policy(approver, "false", severity="warn")
    decision = check_spec(actor=approver, spec=_spec(version))
    assert decision.verdict == "allow"
    assert [w["rule"] for w in decision.warnings] == ["custom-rule"]


@pytest.mark.parametrize(
    "expression",
    [
        "model.no_such_key == 'x'",  # missing key: an ERROR value, not an exception
        "params.limit / 0 == 1",  # division by zero
        "lists.range(20000).all(i, i >= 0)",  # the iteration budget: the one that raises
    ],
)
def test_a_rule_that_errors_fails_closed_with_the_error_reported(approver, catalog, expression):
    version = approved_version()
    _custom_policy(approver, expression, params={"limit": 5})
    decision = check_spec(actor=approver, spec=_spec(version))
    assert decision.verdict == "deny"
    (violation,) = decision.violations
    assert violation["rule"] == "custom-rule"
    assert violation["severity"] == "deny"
    assert violation["error"]
    assert "failing closed" in violation["message"]


def test_simulation_lists_what_a_draft_would_newly_deny(approver, packs, make_deployment):
    eu = approved_version(slug="eu-model")
    make_deployment(eu, slug="in-ireland", region="eu-west-1")
    make_deployment(eu, slug="in-frankfurt", region="eu-central-1")
    policy = Policy.objects.get(slug="data-residency")
    draft = version_create_draft(actor=approver, policy=policy)
    rule_create(
        actor=approver,
        version=draft,
        rule_id="only-ireland",
        expression="region.code in params.only",
        message="{region.code} is not Ireland",
    )
    draft.params = {**draft.params, "only": ["eu-west-1"]}
    draft.save()
    result = simulate_version(actor=approver, version=draft)
    assert result["deployments"] == 2
    assert result["newly_denied"] == 1 and result["newly_allowed"] == 0
    (row,) = result["results"]
    assert row["deployment"] == "in-frankfurt" and row["before"] == "allow"
    assert row["violations"][0]["message"] == "eu-central-1 is not Ireland"
    # Nothing changed for real.
    assert set(Deployment.objects.values_list("status", flat=True)) == {"active"}
    assert policy.active_version.number == 1


def test_simulation_over_the_api(writer, packs):
    writer.post(f"{BASE}/eval-gates/versions/", {}, format="json")
    response = writer.post(f"{BASE}/eval-gates/versions/2/simulate", format="json")
    assert response.status_code == 200
    assert response.json()["deployments"] == 0
    reader_scope_get = writer.get(f"{BASE}/eval-gates/versions/2/")
    assert reader_scope_get.json()["status"] == "draft"
