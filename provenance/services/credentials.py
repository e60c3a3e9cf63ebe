"""Registering signing credentials, and the trust anchors verification uses."""

from __future__ import annotations

import datetime as dt
import io
import logging
from typing import Any

import c2pa
from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from PIL import Image

from audit.services import record_event
from config.exceptions import Conflict, NotAllowed
from provenance import keys, manifest
from provenance.models import (
    SigningCredential,
    TrainingMining,
)

logger = logging.getLogger(__name__)

SIGN_PERMISSION = "provenance.add_signingjob"
# Errors after which the same task, run again, may well succeed.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)
# A queued job whose message may have been lost is enqueued again after this long.
REQUEUE_AFTER = dt.timedelta(minutes=10)
NEVER_ENQUEUED_AFTER = dt.timedelta(seconds=30)


# --- Credentials --------------------------------------------------------------------------


def _test_sign(chain_pem: str, key_reference: str, algorithm: str) -> None:
    """Sign a 1-pixel PNG with fresh c2pa objects: what c2pa-rs refuses is refused here."""
    buffer = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buffer, "PNG")
    key = keys.load_private_key(key_reference)
    signer = c2pa.Signer.from_callback(
        keys.sign_function(key, algorithm),
        keys._C2PA_ALG[keys.SigningAlgorithm(algorithm)],
        chain_pem,
        None,
    )
    definition = manifest.definition(
        title="credential-check.png",
        model=manifest.ModelIdentity("credential check", "0", "Steward", 0),
        training_mining=TrainingMining.NOT_ALLOWED,
        watermark=None,
        steward_job={"check": True},
    )
    try:
        context = c2pa.Context.from_dict(keys.sign_settings())
        manifest.sign_stream(
            source=io.BytesIO(buffer.getvalue()),
            dest=io.BytesIO(),
            mime="image/png",
            manifest_definition=definition,
            signer=signer,
            context=context,
            embed=True,
        )
    except c2pa.C2paError as exc:
        raise keys.CredentialError(f"c2pa refuses this credential: {exc}") from exc
    finally:
        signer.close()


@transaction.atomic
def credential_register(
    *,
    actor: Any,
    name: str,
    certificate_chain: str,
    key_reference: str,
    trust_anchor: str = "",
    activate: bool = True,
) -> SigningCredential:
    """Check a credential (profile, chain, key, a real c2pa test signature) and store it.

    Raises CredentialError (422) with the reason when anything is wrong.
    """
    if (
        actor is not None
        and not isinstance(actor, str)
        and not actor.has_perm("provenance.add_signingcredential")
    ):
        raise NotAllowed("Only administrators register signing credentials.")
    info = keys.check_chain(certificate_chain)
    if trust_anchor:
        keys.check_anchor(certificate_chain, trust_anchor)
    key = keys.load_private_key(key_reference)
    keys.check_key_matches(info.certificates[0], key)
    _test_sign(certificate_chain, key_reference, info.algorithm)
    if SigningCredential.objects.filter(fingerprint_sha256=info.fingerprint_sha256).exists():
        raise Conflict("This certificate is already registered.", code="duplicate_credential")
    if SigningCredential.objects.filter(name=name).exists():
        raise Conflict(f"A credential named '{name}' exists.", code="duplicate_credential")
    if activate:
        SigningCredential.objects.filter(is_active=True).update(is_active=False)
    credential = SigningCredential.objects.create(
        name=name,
        algorithm=info.algorithm,
        certificate_chain=certificate_chain,
        trust_anchor=trust_anchor,
        key_reference=key_reference,
        subject=info.subject,
        issuer=info.issuer,
        fingerprint_sha256=info.fingerprint_sha256,
        not_before=info.not_before,
        not_after=info.not_after,
        is_active=activate,
        created_by=actor if actor is not None and not isinstance(actor, str) else None,
    )
    record_event(
        actor=actor,
        action="provenance.credential_registered",
        target=credential,
        changes={
            "algorithm": info.algorithm,
            "subject": info.subject,
            "fingerprint_sha256": info.fingerprint_sha256,
            "not_after": info.not_after,
            "active": activate,
            "key_reference_scheme": key_reference.partition(":")[0],
        },
    )
    keys.forget_signers()
    return credential


def active_credential() -> SigningCredential | None:
    return SigningCredential.objects.filter(is_active=True).first()


def trust_anchors_pem() -> str:
    """Every root Steward trusts when verifying: registered credentials' and the file's."""
    anchors = [
        a.strip() for a in SigningCredential.objects.values_list("trust_anchor", flat=True) if a
    ]
    path = settings.PROVENANCE_TRUST_ANCHORS_FILE
    if path:
        try:
            with open(path, encoding="ascii") as handle:
                anchors.append(handle.read().strip())
        except OSError:
            logger.warning("PROVENANCE_TRUST_ANCHORS_FILE %s cannot be read", path)
    return "\n".join(dict.fromkeys(anchors)) + ("\n" if anchors else "")
