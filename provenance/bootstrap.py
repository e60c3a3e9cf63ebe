"""The development signing credential, created on demand so `make run` works on a fresh
machine (the demo seed calls this; so does ``manage.py provenance_init_dev_ca``)."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from django.conf import settings
from django.db import transaction

from provenance import devca
from provenance.keys import parse_chain
from provenance.models import SigningCredential
from provenance.services import credential_register

DEV_CREDENTIAL_NAME = "steward-dev"


def ensure_dev_credential(*, force: bool = False) -> tuple[SigningCredential, bool]:
    """(credential, created). Reuses the files under PROVENANCE_KEYS_DIR and the row when
    they match; otherwise issues a new CA and registers it as the active credential."""
    directory = settings.PROVENANCE_KEYS_DIR
    ca = None if force else devca.existing_dev_ca(directory)
    if ca is None:
        ca = devca.write_dev_ca(directory)
    chain_pem = ca.chain.read_text()
    key_reference = f"file:{ca.leaf_key}"
    fingerprint = parse_chain(chain_pem)[0].fingerprint(hashes.SHA256()).hex()
    existing = SigningCredential.objects.filter(fingerprint_sha256=fingerprint).first()
    if existing is not None:
        return existing, False
    with transaction.atomic():
        # The name is stable; an older dev credential is renamed out of the way.
        old = SigningCredential.objects.filter(name=DEV_CREDENTIAL_NAME).first()
        if old is not None:
            old.name = f"{DEV_CREDENTIAL_NAME}-{old.pk}"
            old.is_active = False
            old.save(update_fields=["name", "is_active"])
        credential = credential_register(
            actor="provenance_init_dev_ca",
            name=DEV_CREDENTIAL_NAME,
            certificate_chain=chain_pem,
            key_reference=key_reference,
            trust_anchor=ca.root_cert.read_text(),
            activate=True,
        )
    return credential, True
