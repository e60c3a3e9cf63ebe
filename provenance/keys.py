"""Certificates and keys: profile checks for registration, key loading, and the c2pa signer.

c2pa-rs refuses certificates that do not follow the C2PA signing profile, and gives a terse
error at sign time; registration checks the same rules up front and says which one failed.
Keys are loaded through ``key_reference`` schemes (``file:``, ``env:``); signing goes through
``c2pa.Signer.from_callback`` with ``cryptography`` doing the maths, so an HSM or KMS scheme
only needs a new ``SignFunction``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

from config.exceptions import Unprocessable
from provenance.models import SigningAlgorithm

C2PA_CLAIM_SIGNING_OID = ObjectIdentifier("1.3.6.1.4.1.62558.2.1")
# EKUs c2pa-rs accepts by default (C2PA 2.x §14.5.1), without a custom trust config.
ACCEPTED_EKUS = {
    ExtendedKeyUsageOID.EMAIL_PROTECTION,
    ExtendedKeyUsageOID.TIME_STAMPING,
    ExtendedKeyUsageOID.OCSP_SIGNING,
    ObjectIdentifier("1.3.6.1.4.1.311.76.59.1.9"),  # Microsoft document signing
}

SignFunction = Callable[[bytes], bytes]
PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey

_C2PA_ALG = {
    SigningAlgorithm.ES256: c2pa.C2paSigningAlg.ES256,
    SigningAlgorithm.ES384: c2pa.C2paSigningAlg.ES384,
    SigningAlgorithm.PS256: c2pa.C2paSigningAlg.PS256,
    SigningAlgorithm.ED25519: c2pa.C2paSigningAlg.ED25519,
}


class CredentialError(Unprocessable):
    code = "invalid_credential"


@dataclass(frozen=True)
class ChainInfo:
    certificates: list[x509.Certificate]
    algorithm: str
    subject: str
    issuer: str
    fingerprint_sha256: str
    not_before: dt.datetime
    not_after: dt.datetime


def parse_chain(pem: str) -> list[x509.Certificate]:
    try:
        certs = x509.load_pem_x509_certificates(pem.encode())
    except ValueError as exc:
        raise CredentialError(f"The certificate chain is not valid PEM: {exc}") from exc
    if not certs:
        raise CredentialError("The certificate chain contains no certificate.")
    return certs


def algorithm_for(cert: x509.Certificate) -> str:
    key = cert.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        if isinstance(key.curve, ec.SECP256R1):
            return SigningAlgorithm.ES256
        if isinstance(key.curve, ec.SECP384R1):
            return SigningAlgorithm.ES384
        raise CredentialError(f"Unsupported EC curve {key.curve.name}: use P-256 or P-384.")
    if isinstance(key, ed25519.Ed25519PublicKey):
        return SigningAlgorithm.ED25519
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise CredentialError("RSA keys must be at least 2048 bits.")
        return SigningAlgorithm.PS256
    raise CredentialError(f"Unsupported key type {type(key).__name__}.")


def _ext(cert: x509.Certificate, cls: type[Any]) -> Any:
    try:
        return cert.extensions.get_extension_for_class(cls).value
    except x509.ExtensionNotFound:
        return None


def check_chain(pem: str, *, at: dt.datetime | None = None) -> ChainInfo:
    """Check the leaf against the C2PA signing-certificate profile and the chain's links.

    Raises CredentialError naming the first rule broken.
    """
    certs = parse_chain(pem)
    leaf = certs[0]
    now = at or dt.datetime.now(dt.UTC)
    if leaf.version != x509.Version.v3:
        raise CredentialError("The signing certificate must be X.509 version 3.")
    basic = _ext(leaf, x509.BasicConstraints)
    if basic is not None and basic.ca:
        raise CredentialError("The signing certificate is a CA certificate; use an end-entity one.")
    usage = _ext(leaf, x509.KeyUsage)
    if usage is None or not usage.digital_signature:
        raise CredentialError("The signing certificate needs KeyUsage digitalSignature.")
    eku = _ext(leaf, x509.ExtendedKeyUsage)
    if eku is None:
        raise CredentialError(
            "The signing certificate needs an ExtendedKeyUsage, e.g. emailProtection."
        )
    if not set(eku) & ACCEPTED_EKUS:
        raise CredentialError(
            "The signing certificate's ExtendedKeyUsage has no EKU that C2PA validators accept "
            "by default (emailProtection, documentSigning, timeStamping, OCSPSigning); "
            "C2PA claimSigning alone is rejected without a custom trust configuration."
        )
    if ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in set(eku):
        raise CredentialError("The signing certificate must not carry anyExtendedKeyUsage.")
    if _ext(leaf, x509.AuthorityKeyIdentifier) is None:
        raise CredentialError("The signing certificate needs an AuthorityKeyIdentifier.")
    if leaf.issuer == leaf.subject:
        raise CredentialError(
            "The signing certificate is self-signed; C2PA requires one issued by a CA."
        )
    if leaf.not_valid_after_utc <= now:
        raise CredentialError(f"The signing certificate expired on {leaf.not_valid_after_utc}.")
    if leaf.not_valid_before_utc > now:
        raise CredentialError(
            f"The signing certificate is not valid before {leaf.not_valid_before_utc}."
        )
    for child, parent in itertools.pairwise(certs):
        try:
            child.verify_directly_issued_by(parent)
        except Exception as exc:
            raise CredentialError(
                f"The chain is broken: '{child.subject.rfc4514_string()}' is not issued by "
                f"'{parent.subject.rfc4514_string()}' ({exc.__class__.__name__})."
            ) from exc
    return ChainInfo(
        certificates=certs,
        algorithm=algorithm_for(leaf),
        subject=leaf.subject.rfc4514_string(),
        issuer=leaf.issuer.rfc4514_string(),
        fingerprint_sha256=leaf.fingerprint(hashes.SHA256()).hex(),
        not_before=leaf.not_valid_before_utc,
        not_after=leaf.not_valid_after_utc,
    )


def check_anchor(chain_pem: str, anchor_pem: str) -> None:
    """The last certificate of the chain must be the anchor or be issued by it."""
    anchors = parse_chain(anchor_pem)
    top = parse_chain(chain_pem)[-1]
    for anchor in anchors:
        if top == anchor:
            return
        try:
            top.verify_directly_issued_by(anchor)
            return
        except Exception:  # noqa: S112 - try the next anchor
            continue
    raise CredentialError("The chain does not lead to the given trust anchor.")


# --- Keys -----------------------------------------------------------------------------------


def load_private_key(reference: str) -> PrivateKey:
    """``file:/path/key.pem`` or ``env:NAME`` (NAME holds the PEM). Raises CredentialError."""
    scheme, _, value = reference.partition(":")
    if scheme == "file":
        path = Path(value)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CredentialError(f"The key file {path} cannot be read: {exc.strerror}.") from exc
    elif scheme == "env":
        text = os.environ.get(value)
        if not text:
            raise CredentialError(f"The environment variable {value} holding the key is not set.")
        data = text.encode()
    else:
        raise CredentialError(
            f"Unknown key reference '{reference}': use file:/path/to/key.pem or env:VARIABLE."
        )
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise CredentialError(f"The private key is not a readable PEM key: {exc}") from exc
    if not isinstance(
        key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey
    ):
        raise CredentialError(f"Unsupported private key type {type(key).__name__}.")
    return key


def check_key_matches(cert: x509.Certificate, key: PrivateKey) -> None:
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    expected = cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if public != expected:
        raise CredentialError("The private key does not belong to the signing certificate.")


def sign_function(key: PrivateKey, algorithm: str) -> SignFunction:
    """The callback c2pa calls with the COSE to-be-signed bytes."""
    if algorithm in (SigningAlgorithm.ES256, SigningAlgorithm.ES384):
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        digest: hashes.HashAlgorithm = (
            hashes.SHA256() if algorithm == SigningAlgorithm.ES256 else hashes.SHA384()
        )
        size = 32 if algorithm == SigningAlgorithm.ES256 else 48

        def sign_ecdsa(data: bytes) -> bytes:
            # COSE wants raw r||s; cryptography gives DER.
            r, s = decode_dss_signature(key.sign(data, ec.ECDSA(digest)))
            return r.to_bytes(size, "big") + s.to_bytes(size, "big")

        return sign_ecdsa
    if algorithm == SigningAlgorithm.PS256:
        assert isinstance(key, rsa.RSAPrivateKey)
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        return lambda data: key.sign(data, pss, hashes.SHA256())
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    return lambda data: key.sign(data)


# --- Per-process c2pa objects ----------------------------------------------------------------


def sign_settings() -> dict[str, Any]:
    return {
        "builder": {
            # The thumbnail is most of the signing time and size; Steward never needs it.
            "thumbnail": {"enabled": False},
            "claim_generator_info": {"name": "Steward", "version": "0.1.0"},
        },
        # verify_after_sign catches a bad certificate or manifest before a broken file ships.
        "verify": {
            "verify_after_sign": True,
            "remote_manifest_fetch": False,
            "ocsp_fetch": False,
        },
    }


def read_settings(trust_anchors_pem: str | None) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "verify": {
            "verify_after_reading": True,
            "verify_trust": True,
            "remote_manifest_fetch": False,
            "ocsp_fetch": False,
        }
    }
    if trust_anchors_pem:
        settings["trust"] = {"trust_anchors": trust_anchors_pem}
    return settings


class _ProcessCache:
    """c2pa Signer/Context objects refuse to work in a forked child, so they are created
    lazily and dropped when the PID changes (Celery prefork children, gunicorn workers)."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.items: dict[tuple[Any, ...], Any] = {}

    def get(self, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        if os.getpid() != self.pid:
            self.pid, self.lock, self.items = os.getpid(), threading.Lock(), {}
        hit = self.items.get(key)
        if hit is not None:
            return hit
        with self.lock:
            hit = self.items.get(key)
            if hit is None:
                hit = self.items[key] = make()
            return hit


_cache = _ProcessCache()


def process_signer(
    *, chain_pem: str, key_reference: str, algorithm: str, tsa_url: str | None
) -> c2pa.Signer:
    """The Signer for this credential in this process (created on first use)."""
    fingerprint = hashlib.sha256(chain_pem.encode()).hexdigest()

    def make() -> c2pa.Signer:
        key = load_private_key(key_reference)
        check_key_matches(parse_chain(chain_pem)[0], key)
        return c2pa.Signer.from_callback(
            sign_function(key, algorithm),
            _C2PA_ALG[SigningAlgorithm(algorithm)],
            chain_pem,
            tsa_url,
        )

    return _cache.get(("signer", fingerprint, key_reference, algorithm, tsa_url), make)  # type: ignore[no-any-return]


def process_sign_context() -> c2pa.Context:
    return _cache.get(("sign-context",), lambda: c2pa.Context.from_dict(sign_settings()))  # type: ignore[no-any-return]


def process_read_context(trust_anchors_pem: str | None) -> c2pa.Context:
    digest = hashlib.sha256((trust_anchors_pem or "").encode()).hexdigest()
    return _cache.get(  # type: ignore[no-any-return]
        ("read-context", digest), lambda: c2pa.Context.from_dict(read_settings(trust_anchors_pem))
    )


def process_plain_read_context() -> c2pa.Context:
    """For reading back manifests Steward just made: no validation, no network."""
    settings = {
        "verify": {
            "verify_after_reading": False,
            "remote_manifest_fetch": False,
            "ocsp_fetch": False,
        }
    }
    return _cache.get(("plain-read-context",), lambda: c2pa.Context.from_dict(settings))  # type: ignore[no-any-return]


def forget_signers() -> None:
    """Drop cached signers (after a credential changes)."""
    with _cache.lock:
        _cache.items = {k: v for k, v in _cache.items.items() if k[0] != "signer"}
