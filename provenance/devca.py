"""A development CA and signing certificate that c2pa-rs accepts. NOT for production.

The leaf follows the C2PA signing profile: X.509 v3, ECDSA P-256, CA=false, KeyUsage
digitalSignature (critical), ExtendedKeyUsage emailProtection + C2PA claimSigning, SKI and
AKI. A self-signed leaf does not validate, hence the separate root.

Without a time-stamp authority a signature stops validating when its certificate expires,
so the development leaf lives long (10 years); production credentials should use a TSA
(``PROVENANCE_TSA_URL``) or a re-signing policy.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from provenance.keys import C2PA_CLAIM_SIGNING_OID

ROOT_DAYS = 20 * 365
LEAF_DAYS = 10 * 365


@dataclass(frozen=True)
class DevCA:
    root_cert: Path
    root_key: Path
    chain: Path  # leaf then root
    leaf_key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Steward Development"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "FOR DEVELOPMENT ONLY"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_usage(*, signing: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signing,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not signing,
        crl_sign=not signing,
        encipher_only=False,
        decipher_only=False,
    )


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def issue(
    *, leaf_days: int = LEAF_DAYS, leaf_not_after: dt.datetime | None = None
) -> tuple[bytes, bytes, bytes, bytes]:
    """(root_pem, root_key_pem, chain_pem, leaf_key_pem) of a fresh root and leaf."""
    now = dt.datetime.now(dt.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_ski = x509.SubjectKeyIdentifier.from_public_key(root_key.public_key())
    root = (
        x509.CertificateBuilder()
        .subject_name(_name("Steward Development Root CA"))
        .issuer_name(_name("Steward Development Root CA"))
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=ROOT_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(signing=False), critical=True)
        .add_extension(root_ski, critical=False)
        .sign(root_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name("Steward Development Signer"))
        .issuer_name(root.subject)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(leaf_not_after or now + dt.timedelta(days=leaf_days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signing=True), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION, C2PA_CLAIM_SIGNING_OID]),
            critical=False,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(root_ski),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return (
        root.public_bytes(pem),
        _pem_key(root_key),
        leaf.public_bytes(pem) + root.public_bytes(pem),
        _pem_key(leaf_key),
    )


def write_dev_ca(directory: Path) -> DevCA:
    """Create the files under ``directory`` (keys mode 0600). Overwrites existing ones."""
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    root_pem, root_key, chain_pem, leaf_key = issue()
    ca = DevCA(
        root_cert=directory / "dev-root.pem",
        root_key=directory / "dev-root.key",
        chain=directory / "dev-chain.pem",
        leaf_key=directory / "dev-signer.key",
    )
    for path, data, private in (
        (ca.root_key, root_key, True),
        (ca.leaf_key, leaf_key, True),
        (ca.root_cert, root_pem, False),
        (ca.chain, chain_pem, False),
    ):
        path.write_bytes(data)
        if private:
            path.chmod(0o600)
    return ca


def existing_dev_ca(directory: Path) -> DevCA | None:
    ca = DevCA(
        root_cert=directory / "dev-root.pem",
        root_key=directory / "dev-root.key",
        chain=directory / "dev-chain.pem",
        leaf_key=directory / "dev-signer.key",
    )
    if all(p.exists() for p in (ca.root_cert, ca.chain, ca.leaf_key)):
        return ca
    return None
