from __future__ import annotations

import unicodedata
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from config.exceptions import DomainError


def full_clean(obj: models.Model, exclude: list[str] | None = None) -> None:
    """``full_clean`` whose failures are DomainErrors (400 naming the fields), so HTML views
    and the API report them the same way."""
    try:
        obj.full_clean(exclude=exclude)
    except ValidationError as exc:
        fields: dict[str, Any] = exc.message_dict if hasattr(exc, "error_dict") else {}
        first = next(iter(fields.items()), None)
        message = f"{first[0]}: {first[1][0]}" if first else "; ".join(exc.messages)
        raise DomainError(message, fields=fields) from exc


def clean_text(value: str) -> str:
    """Text from files (cards, lm-eval JSON) may hold NUL characters PostgreSQL refuses."""
    return (value or "").replace("\x00", "")


# Control characters (C0/C1, DEL), format characters (zero-width, bidirectional overrides),
# lone surrogates and the Unicode line and paragraph separators: nothing a one-line name shows,
# and a line break in one splits CSV rows, log lines and HTTP headers built from it.
_INVISIBLE = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def control_characters(value: str) -> list[str]:
    """The control characters in ``value``, each once, as U+XXXX."""
    found: list[str] = []
    for char in value:
        code = f"U+{ord(char):04X}"
        if unicodedata.category(char) in _INVISIBLE and code not in found:
            found.append(code)
    return found
