"""Licence identifiers: SPDX expressions, LicenseRef-… ids for AI licences SPDX lacks, and the
licence ids Hugging Face model cards use."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from config.exceptions import Unprocessable
from registry.models import License

_LICENSE_REF = re.compile(r"^LicenseRef-[A-Za-z0-9.\-]+$")

# Hugging Face `license:` ids (https://huggingface.co/docs/hub/repositories-licenses) that are
# not SPDX ids, mapped to Steward's LicenseRef ids.
HF_LICENSE_IDS: dict[str, str] = {
    "llama2": "LicenseRef-Llama-2-Community",
    "llama3": "LicenseRef-Llama-3-Community",
    "llama3.1": "LicenseRef-Llama-3.1-Community",
    "llama3.2": "LicenseRef-Llama-3.2-Community",
    "llama3.3": "LicenseRef-Llama-3.3-Community",
    "gemma": "LicenseRef-Gemma-Terms-of-Use",
    "deepseek": "LicenseRef-DeepSeek-Model",
    "openrail": "LicenseRef-OpenRAIL",
    "openrail++": "LicenseRef-OpenRAIL-M",
    "creativeml-openrail-m": "LicenseRef-CreativeML-OpenRAIL-M",
    "bigscience-openrail-m": "LicenseRef-BigScience-OpenRAIL-M",
    "bigcode-openrail-m": "LicenseRef-BigCode-OpenRAIL-M",
}
# `license: other` + `license_name:` values.
HF_OTHER_LICENSE_NAMES: dict[str, str] = {
    "qwen": "LicenseRef-Qwen",
    "tongyi-qianwen": "LicenseRef-Qwen",
    "qwen-research": "LicenseRef-Qwen-Research",
    "deepseek": "LicenseRef-DeepSeek-Model",
    "deepseek-license": "LicenseRef-DeepSeek-Model",
}


@lru_cache(maxsize=1)
def _licensing() -> Any:
    from license_expression import get_spdx_licensing

    return get_spdx_licensing()


def normalise_license_id(raw: str) -> str:
    """The canonical form of an SPDX expression or LicenseRef id.

    Raises Unprocessable naming the unknown identifier."""
    text = (raw or "").strip()
    if not text:
        raise Unprocessable("A licence identifier is required.", fields={"license": ["Required."]})
    if text.startswith("LicenseRef-"):
        if not _LICENSE_REF.match(text):
            raise Unprocessable(
                f"'{text}' is not a valid LicenseRef id (letters, digits, '.' and '-' only).",
                fields={"license": ["Invalid LicenseRef id."]},
            )
        return text
    licensing = _licensing()
    try:
        info = licensing.validate(text)
    except Exception as exc:  # the parser raises several exception types
        raise Unprocessable(
            f"'{text}' is not a valid SPDX licence expression: {exc}",
            fields={"license": [str(exc)]},
        ) from exc
    if info.errors or info.invalid_symbols:
        problem = "; ".join(info.errors) or f"unknown id(s) {', '.join(info.invalid_symbols)}"
        raise Unprocessable(
            f"'{text}' is not a valid SPDX licence expression: {problem}. Use an SPDX id "
            "(https://spdx.org/licenses/) or a LicenseRef-… id.",
            fields={"license": [problem]},
        )
    return str(info.normalized_expression)


def resolve_license(raw: str) -> License:
    """The catalog licence for ``raw`` (SPDX expression, LicenseRef id, or catalog id in any
    case). Unknown → Unprocessable naming it."""
    text = (raw or "").strip()
    found = License.objects.filter(spdx_id__iexact=text).first()
    if found:
        return found
    canonical = normalise_license_id(text)
    found = License.objects.filter(spdx_id__iexact=canonical).first()
    if found is None:
        raise Unprocessable(
            f"Licence '{canonical}' is not in the licence catalog. Add it under /api/v1/licenses/ "
            "(with its obligations) or choose a catalogued licence.",
            fields={"license": [f"Unknown licence: {canonical}"]},
            code="unknown_license",
        )
    return found


def hf_license_to_id(license_id: str | None, license_name: str | None = None) -> str | None:
    """Steward's id for a Hugging Face card's ``license`` (and ``license_name``), or None."""
    if not license_id:
        return None
    key = license_id.strip().lower()
    if key == "other":
        name = (license_name or "").strip().lower()
        return HF_OTHER_LICENSE_NAMES.get(name) or (
            f"LicenseRef-{re.sub(r'[^A-Za-z0-9.-]+', '-', name).strip('-')}" if name else None
        )
    if key in HF_LICENSE_IDS:
        return HF_LICENSE_IDS[key]
    try:
        return normalise_license_id(license_id)
    except Unprocessable:
        return None


def plain_obligations(lic: License) -> list[str]:
    """The licence's obligations in plain words, from its data plus its own notes."""
    lines: list[str] = []
    lines.append(
        "Commercial use is allowed."
        if lic.commercial_use
        else "Commercial use is NOT allowed under this licence."
    )
    if lic.user_threshold_mau:
        lines.append(
            f"If your products exceed {lic.user_threshold_mau:,} monthly active users you need a "
            "separate licence from the provider."
        )
    if lic.attribution_required:
        lines.append("You must give attribution / keep the licence and notices with the model.")
    if lic.share_alike:
        lines.append("Derivatives must be shared under the same terms.")
    if lic.territorial_restrictions:
        lines.append(
            "Territorial restriction: rights are limited in "
            + ", ".join(lic.territorial_restrictions)
            + "."
        )
    if lic.acceptable_use_policy_url:
        lines.append(
            f"Use must follow the acceptable use policy ({lic.acceptable_use_policy_url})."
        )
    lines.extend(str(item) for item in lic.obligations or [])
    return lines
