"""Ed25519 signing key for checkpoints and export manifests, and the keyring of public keys.

The private key comes from ``STEWARD_AUDIT_SIGNING_KEY`` (PEM) or ``..._FILE``. In
development and tests one is generated under ``var/keys/`` (git-ignored). Every key that
signs has its public key kept in ``STEWARD_AUDIT_PUBLIC_KEYS_DIR`` as ``<key id>.pem``, so
that after a rotation older checkpoints and exports still verify.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)
ALGORITHM = "Ed25519"


def key_id_for(public_key: Ed25519PublicKey) -> str:
    """First 16 hex digits of the SHA-256 of the raw public key (what the client computes too)."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


@dataclass(frozen=True)
class SigningKey:
    key_id: str
    private_key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    def sign(self, data: bytes) -> str:
        return base64.b64encode(self.private_key.sign(data)).decode("ascii")


def _load_private(pem: bytes, origin: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"{origin} is not a PEM private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ImproperlyConfigured(f"{origin} must be an Ed25519 key (got {type(key).__name__}).")
    return key


def _development_key(path: Path) -> Ed25519PrivateKey:
    if path.exists():
        return _load_private(path.read_bytes(), str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # O_EXCL: two processes generating at once keep one key, the loser reads the winner's.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _load_private(path.read_bytes(), str(path))
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    logger.warning("generated a development audit signing key at %s", path)
    return key


def signing_key() -> SigningKey:
    pem = settings.STEWARD_AUDIT_SIGNING_KEY
    if pem:
        key = _load_private(pem.encode("utf-8"), "STEWARD_AUDIT_SIGNING_KEY")
    elif settings.DEBUG or getattr(settings, "TESTING", False):
        key = _development_key(Path(settings.STEWARD_AUDIT_DEV_KEY_FILE))
    else:
        raise ImproperlyConfigured(
            "No audit signing key: set STEWARD_AUDIT_SIGNING_KEY_FILE to an Ed25519 PEM key, "
            "e.g. openssl genpkey -algorithm ed25519 -out audit-signing.pem"
        )
    signer = SigningKey(key_id_for(key.public_key()), key)
    _keep_public_key(signer)
    return signer


def _keep_public_key(signer: SigningKey) -> None:
    directory = Path(settings.STEWARD_AUDIT_PUBLIC_KEYS_DIR)
    path = directory / f"{signer.key_id}.pem"
    if path.exists():
        return
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="ascii") as handle:
            handle.write(public_pem(signer.public_key))
    except FileExistsError:
        pass
    except OSError:
        logger.exception("cannot keep the public key %s in %s", signer.key_id, directory)


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def public_keys() -> dict[str, Ed25519PublicKey]:
    """Every known public key by key id: the keyring directory plus the current key."""
    keys: dict[str, Ed25519PublicKey] = {}
    directory = Path(settings.STEWARD_AUDIT_PUBLIC_KEYS_DIR)
    if directory.is_dir():
        for path in sorted(directory.glob("*.pem")):
            try:
                key = load_public_key(path.read_bytes())
            except (ValueError, OSError):
                logger.warning("ignoring unreadable public key %s", path)
                continue
            keys[key_id_for(key)] = key
    try:
        current = signing_key()
    except ImproperlyConfigured:
        return keys
    keys[current.key_id] = current.public_key
    return keys


def verify_signature(public_key: Ed25519PublicKey, signature_b64: str, data: bytes) -> bool:
    try:
        public_key.verify(base64.b64decode(signature_b64, validate=True), data)
    except (InvalidSignature, ValueError):
        return False
    return True
