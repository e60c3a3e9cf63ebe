"""Building the manifest Steward signs, and reading any manifest back."""

from __future__ import annotations

import io
import json
import struct
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import c2pa

from provenance.keys import process_plain_read_context, process_read_context

CLAIM_GENERATOR = {"name": "Steward", "version": "0.1.0"}
TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
WATERMARK_LABEL = "org.steward.watermark"
TRAINING_MINING_LABEL = "cawg.training-mining"
# c2pa-rs writes claim v2 actions under this label, whatever the definition said.
ACTIONS_LABELS = ("c2pa.actions.v2", "c2pa.actions")
TRAINING_MINING_ENTRIES = (
    "cawg.ai_generative_training",
    "cawg.ai_training",
    "cawg.ai_inference",
    "cawg.data_mining",
)


@dataclass(frozen=True)
class ModelIdentity:
    name: str
    version: str
    provider: str
    registry_id: int


def definition(
    *,
    title: str,
    model: ModelIdentity,
    training_mining: str,
    watermark: dict[str, Any] | None,
    steward_job: dict[str, Any],
) -> dict[str, Any]:
    assertions: list[dict[str, Any]] = [
        {
            "label": "c2pa.actions",
            "data": {
                "actions": [
                    {
                        "action": "c2pa.created",
                        "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
                        # A ClaimGeneratorInfo: extra keys survive the round trip.
                        "softwareAgent": {
                            "name": model.name,
                            "version": model.version,
                            "org.steward.provider": model.provider,
                            "org.steward.model_version_id": model.registry_id,
                        },
                    }
                ]
            },
        },
        {
            "label": TRAINING_MINING_LABEL,
            "data": {"entries": {k: {"use": training_mining} for k in TRAINING_MINING_ENTRIES}},
        },
        {"label": "org.steward.job", "data": steward_job},
    ]
    if watermark is not None:
        assertions.append({"label": WATERMARK_LABEL, "data": watermark})
    return {"claim_generator_info": [CLAIM_GENERATOR], "title": title, "assertions": assertions}


def sign_stream(
    *,
    source: BinaryIO,
    dest: BinaryIO,
    mime: str,
    manifest_definition: dict[str, Any],
    signer: c2pa.Signer,
    context: c2pa.Context,
    embed: bool,
) -> bytes:
    """Sign ``source`` into ``dest`` (read/write/seek); returns the manifest store bytes.

    With ``embed=False`` ``dest`` carries no manifest, but may still be rewritten (MP3, PDF):
    the sidecar binds to ``dest``, so keep and serve ``dest``, never the original.
    """
    with c2pa.Builder(manifest_definition, context) as builder:
        if not embed:
            builder.set_no_embed()
        return builder.sign(signer, mime, source, dest)


# What c2pa adds to a reading about its validation: a store read without its asset and with
# validation off comes back "Invalid", which says nothing about the manifest Steward issued.
_VALIDATION_KEYS = ("validation_state", "validation_results", "validation_status")


def store_json(manifest_bytes: bytes) -> dict[str, Any]:
    """The manifest store as JSON, read from its own bytes (no asset, no validation: the
    reading's validation fields are left out)."""
    context = process_plain_read_context()
    with c2pa.Reader("application/c2pa", io.BytesIO(manifest_bytes), context=context) as reader:
        store: dict[str, Any] = json.loads(reader.json())
    for key in _VALIDATION_KEYS:
        store.pop(key, None)
    return store


def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """The JUMBF (ISO 19566-5) boxes between ``start`` and ``end``: (type, content start,
    end). Raises ValueError for a box that does not fit."""
    boxes = []
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, at)
        header = 8
        if size == 1:  # a 64-bit size follows the type
            (size,) = struct.unpack_from(">Q", data, at + 8)
            header = 16
        elif size == 0:  # up to the end
            size = end - at
        if size < header or at + size > end:
            raise ValueError(f"JUMBF box at {at} does not fit")
        boxes.append((kind, at + header, at + size))
        at += size
    return boxes


def _description_label(data: bytes, start: int, end: int) -> str:
    """The label of a JUMBF description box: a 16-byte type, a toggles byte (bit 1: a label
    follows), the label, NUL-terminated."""
    if end - start < 18 or not data[start + 16] & 0x02:
        raise ValueError("JUMBF description box without a label")
    return data[start + 17 : data.index(b"\0", start + 17, end)].decode("utf-8")


def active_label(manifest_bytes: bytes) -> str:
    """The active manifest's label, read from a manifest store's bytes without c2pa (which
    takes ~0.5 ms to read it back): the store is a JUMBF superbox labelled ``c2pa`` holding
    one superbox per manifest, the active manifest last (C2PA specification). Raises
    ValueError for bytes that are not a manifest store."""
    outer = _boxes(manifest_bytes, 0, len(manifest_bytes))
    if not outer or outer[0][0] != b"jumb":
        raise ValueError("not a JUMBF superbox")
    children = _boxes(manifest_bytes, outer[0][1], outer[0][2])
    if not children or children[0][0] != b"jumd":
        raise ValueError("JUMBF superbox without a description")
    if _description_label(manifest_bytes, *children[0][1:]) != "c2pa":
        raise ValueError("not a C2PA manifest store")
    manifests = [box for box in children[1:] if box[0] == b"jumb"]
    if not manifests:
        raise ValueError("the manifest store holds no manifest")
    description = _boxes(manifest_bytes, manifests[-1][1], manifests[-1][2])[0]
    if description[0] != b"jumd":
        raise ValueError("manifest superbox without a description")
    return _description_label(manifest_bytes, description[1], description[2])


@dataclass
class Reading:
    status: str  # ok | no_manifest | unsupported | error
    validation_state: str | None = None  # Trusted | Valid | Invalid
    active_label: str | None = None
    active_manifest: dict[str, Any] | None = None
    failure_codes: list[str] = field(default_factory=list)
    embedded: bool | None = None
    error: str | None = None

    @property
    def state(self) -> str:
        """trusted / valid-untrusted / invalid / none / unreadable."""
        if self.status == "ok":
            return {"Trusted": "trusted", "Valid": "valid-untrusted"}.get(
                self.validation_state or "", "invalid"
            )
        if self.status == "error":
            return "invalid"
        return "none"


def read(
    stream: BinaryIO, mime: str, *, trust_anchors_pem: str | None, sidecar: bytes | None = None
) -> Reading:
    """Read and validate a file's manifest. Never raises for a bad or missing manifest."""
    context = process_read_context(trust_anchors_pem)
    try:
        with c2pa.Reader(mime, stream, sidecar, context=context) as reader:
            store = json.loads(reader.json())
            embedded = reader.is_embedded()
    except c2pa.C2paError.ManifestNotFound as exc:
        return Reading(status="no_manifest", error=str(exc))
    except c2pa.C2paError.NotSupported as exc:
        return Reading(status="unsupported", error=str(exc))
    except c2pa.C2paError as exc:
        # A mangled manifest raises rather than reading back "Invalid".
        return Reading(status="error", error=f"{exc.__class__.__name__}: {exc}")
    label = store.get("active_manifest")
    results = (store.get("validation_results") or {}).get("activeManifest") or {}
    return Reading(
        status="ok",
        validation_state=store.get("validation_state"),
        active_label=label,
        active_manifest=(store.get("manifests") or {}).get(label),
        failure_codes=[e.get("code", "") for e in results.get("failure") or []],
        embedded=embedded,
    )


def find_assertion(manifest: dict[str, Any] | None, *labels: str) -> dict[str, Any] | None:
    for assertion in (manifest or {}).get("assertions", []):
        if assertion.get("label") in labels:
            return assertion.get("data")  # type: ignore[no-any-return]
    return None


def created_action(manifest: dict[str, Any] | None) -> dict[str, Any] | None:
    actions = find_assertion(manifest, *ACTIONS_LABELS) or {}
    for action in actions.get("actions", []):
        if action.get("action") == "c2pa.created":
            return action  # type: ignore[no-any-return]
    return None
