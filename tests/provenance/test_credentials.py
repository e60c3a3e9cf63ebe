"""Registering credentials checks the C2PA profile; a corrupt credential fails jobs clearly."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.core.management import call_command

from audit.models import AuditEvent
from config.exceptions import DomainError
from provenance.keys import CredentialError
from provenance.models import JobStatus, SigningCredential
from provenance.services import credential_register, signing_job_run, signing_jobs_submit
from tests.provenance.conftest import upload

pytestmark = pytest.mark.django_db


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _key_file(tmp_path, key) -> str:
    path = tmp_path / "k.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return f"file:{path}"


def _leaf(
    *,
    ca: bool = False,
    eku=(ExtendedKeyUsageOID.EMAIL_PROTECTION,),
    aki: bool = True,
    self_signed=False,
):
    now = dt.datetime.now(dt.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Root")])
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False
        )
        .sign(root_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Leaf")])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name if self_signed else root_name)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=10))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, ca, False, False, False), critical=True
        )
    )
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    if aki:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
    leaf = builder.sign(key if self_signed else root_key, hashes.SHA256())
    return _pem(leaf) + _pem(root), key, _pem(root)


def test_a_profile_conforming_credential_is_registered_and_audited(tmp_path):
    chain, key, root = _leaf()
    credential = credential_register(
        actor="tests",
        name="ok",
        certificate_chain=chain,
        key_reference=_key_file(tmp_path, key),
        trust_anchor=root,
    )
    assert credential.is_active
    assert credential.algorithm == "ES256"
    assert credential.not_after > credential.not_before
    assert "BEGIN" not in credential.key_reference
    assert AuditEvent.objects.filter(action="provenance.credential_registered").count() == 1


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"ca": True}, "CA certificate"),
        ({"eku": ()}, "ExtendedKeyUsage"),
        ({"eku": (x509.ObjectIdentifier("1.3.6.1.4.1.62558.2.1"),)}, "claimSigning alone"),
        ({"aki": False}, "AuthorityKeyIdentifier"),
        ({"self_signed": True}, "self-signed"),
    ],
)
def test_a_credential_breaking_the_profile_is_refused_with_the_reason(tmp_path, kwargs, reason):
    chain, key, _ = _leaf(**kwargs)
    with pytest.raises(CredentialError) as caught:
        credential_register(
            actor="tests",
            name="bad",
            certificate_chain=chain,
            key_reference=_key_file(tmp_path, key),
        )
    assert reason in caught.value.message
    assert not SigningCredential.objects.exists()


def test_a_key_that_does_not_match_the_certificate_is_refused(tmp_path):
    chain, _, _ = _leaf()
    other = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(CredentialError, match="does not belong"):
        credential_register(
            actor="tests",
            name="bad",
            certificate_chain=chain,
            key_reference=_key_file(tmp_path, other),
        )


@pytest.mark.parametrize(
    ("reference", "reason"),
    [
        ("file:/nonexistent/key.pem", "cannot be read"),
        ("env:STEWARD_NO_SUCH_KEY", "not set"),
        ("vault:x", "Unknown key reference"),
    ],
)
def test_an_unreadable_key_reference_is_refused(reference, reason):
    chain, _, _ = _leaf()
    with pytest.raises(CredentialError, match=reason):
        credential_register(
            actor="tests", name="bad", certificate_chain=chain, key_reference=reference
        )


def test_garbage_is_not_a_certificate_chain(tmp_path):
    with pytest.raises(DomainError, match=r"PEM|no certificate"):
        credential_register(
            actor="tests", name="bad", certificate_chain="hello", key_reference="env:X"
        )


def test_a_key_from_the_environment_signs(tmp_path, monkeypatch, owner, version):
    chain, key, root = _leaf()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    monkeypatch.setenv("STEWARD_TEST_SIGNING_KEY", pem)
    credential_register(
        actor="tests",
        name="env",
        certificate_chain=chain,
        key_reference="env:STEWARD_TEST_SIGNING_KEY",
        trust_anchor=root,
    )
    (job,) = signing_jobs_submit(actor=owner, files=[upload("png")], model_version_id=version.pk)
    assert signing_job_run(job_id=job.pk).status == JobStatus.SUCCEEDED


def test_a_corrupt_key_file_fails_the_job_with_the_reason(tmp_path, owner, version):
    from provenance import keys

    chain, key, root = _leaf()
    reference = _key_file(tmp_path, key)
    credential_register(
        actor="tests", name="c", certificate_chain=chain, key_reference=reference, trust_anchor=root
    )
    (tmp_path / "k.pem").write_text(
        # A corrupt key file; the marker is split so no key-looking text is in the repo.
        "-----BEGIN " + "PRIVATE KEY-----\ngarbage\n-----END " + "PRIVATE KEY-----\n"
    )
    keys.forget_signers()
    (job,) = signing_jobs_submit(actor=owner, files=[upload("png")], model_version_id=version.pk)
    job = signing_job_run(job_id=job.pk)
    assert job.status == JobStatus.FAILED
    assert "signing credential 'c' is unusable" in job.error
    assert "not a readable PEM key" in job.error
    assert AuditEvent.objects.filter(
        action="provenance.sign_failed", target_id=str(job.pk)
    ).exists()


def test_init_dev_ca_creates_and_registers_once(settings, tmp_path):
    call_command("provenance_init_dev_ca")
    credential = SigningCredential.objects.get(is_active=True)
    assert credential.name == "steward-dev"
    key_path = credential.key_reference.removeprefix("file:")
    assert key_path.startswith(str(settings.PROVENANCE_KEYS_DIR))
    import os
    import stat

    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    events = AuditEvent.objects.count()
    call_command("provenance_init_dev_ca")
    assert SigningCredential.objects.count() == 1
    assert AuditEvent.objects.count() == events
    call_command("provenance_init_dev_ca", "--force")
    assert SigningCredential.objects.count() == 2
    assert SigningCredential.objects.get(is_active=True).name == "steward-dev"
