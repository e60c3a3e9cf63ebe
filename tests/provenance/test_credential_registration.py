"""Registering a signing credential from one's own CA: the admins' page and the command."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from audit.models import AuditEvent
from provenance import devca
from provenance.models import SigningCredential

pytestmark = pytest.mark.django_db

PAGE = reverse("provenance:credential-list")


@pytest.fixture
def own_ca(tmp_path):
    """A CA of the operator's own (not Steward's dev CA), its leaf's key in a file."""
    return devca.write_dev_ca(tmp_path / "own-ca")


def _form(ca, **overrides):
    data = {
        "name": "corp-signer",
        "certificate_chain": ca.chain.read_text(),
        "key_reference": f"file:{ca.leaf_key}",
        "trust_anchor": ca.root_cert.read_text(),
        "activate": "on",
    }
    data.update(overrides)
    return data


def test_an_admin_registers_a_credential_and_it_becomes_the_active_one(
    client, admin_user, credential, own_ca
):
    client.force_login(admin_user)
    page = client.get(PAGE)
    assert page.status_code == 200 and credential.name in page.content.decode()
    response = client.post(PAGE, _form(own_ca))
    assert response.status_code == 302, response.content.decode()
    registered = SigningCredential.objects.get(name="corp-signer")
    assert registered.is_active and registered.algorithm == "ES256"
    assert registered.key_reference == f"file:{own_ca.leaf_key}"  # a reference, not the key
    credential.refresh_from_db()
    assert not credential.is_active
    event = AuditEvent.objects.get(
        action="provenance.credential_registered", target_id=str(registered.pk)
    )
    assert event.actor_id == str(admin_user.pk)
    listed = client.get(PAGE).content.decode()
    assert "corp-signer" in listed and "BEGIN" not in listed.split("<form")[0]


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"certificate_chain": "not a certificate"}, "certificate"),
        ({"key_reference": "file:/nonexistent/key.pem"}, "key"),
        ({"key_reference": "plain-text-key"}, "key"),
    ],
)
def test_a_bad_credential_is_a_form_error_with_the_reason_and_nothing_is_stored(
    client, admin_user, own_ca, overrides, reason
):
    client.force_login(admin_user)
    response = client.post(PAGE, _form(own_ca, **overrides))
    assert 400 <= response.status_code < 500
    errors = response.content.decode().split('class="form-errors"')[1].split("</div>")[0]
    assert reason in errors.lower()
    assert not SigningCredential.objects.filter(name="corp-signer").exists()
    assert not AuditEvent.objects.filter(action="provenance.credential_registered").exists()


def test_a_key_that_does_not_match_the_certificate_is_refused(client, admin_user, tmp_path):
    one, other = devca.write_dev_ca(tmp_path / "a"), devca.write_dev_ca(tmp_path / "b")
    client.force_login(admin_user)
    response = client.post(PAGE, _form(one, key_reference=f"file:{other.leaf_key}"))
    assert 400 <= response.status_code < 500
    assert not SigningCredential.objects.exists()


@pytest.mark.parametrize("role", ["model_owner", "approver", "auditor", "viewer"])
def test_only_admins_may_open_or_post_the_page(client, make_user, own_ca, role):
    client.force_login(make_user(f"a-{role}", [role]))
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, _form(own_ca)).status_code == 403
    assert not SigningCredential.objects.exists()
    assert "Signing credentials" not in client.get(reverse("provenance:job-list")).content.decode()


def test_the_job_list_links_admins_to_the_page(client, admin_user):
    client.force_login(admin_user)
    assert PAGE in client.get(reverse("provenance:job-list")).content.decode()


def test_the_command_registers_or_refuses_with_the_reason(own_ca, tmp_path):
    call_command(
        "provenance_register_credential",
        "--name",
        "corp-signer",
        "--chain",
        str(own_ca.chain),
        "--key-reference",
        f"file:{own_ca.leaf_key}",
        "--trust-anchor",
        str(own_ca.root_cert),
    )
    assert SigningCredential.objects.get(name="corp-signer").is_active
    bad = tmp_path / "bad.pem"
    bad.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(CommandError, match="Refused"):
        call_command(
            "provenance_register_credential",
            "--name",
            "other",
            "--chain",
            str(bad),
            "--key-reference",
            f"file:{own_ca.leaf_key}",
        )
    with pytest.raises(CommandError, match="Cannot read"):
        call_command(
            "provenance_register_credential",
            "--name",
            "other",
            "--chain",
            str(tmp_path / "missing.pem"),
            "--key-reference",
            f"file:{own_ca.leaf_key}",
        )
    assert SigningCredential.objects.count() == 1
