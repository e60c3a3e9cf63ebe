"""Row ids read from text (paths, query strings, references that are a slug or an id)."""

from __future__ import annotations

# The largest primary key any supported database stores (a signed 64-bit integer). A larger
# value cannot name a row, and SQLite refuses to bind it (OverflowError) instead of
# matching nothing.
MAX_ID = 2**63 - 1


def parse_id(text: object) -> int | None:
    """The id ``text`` spells in ASCII digits, or None if it is not one.

    Not ``str.isdigit()`` + ``int()``: isdigit accepts '²', which int() refuses, and int()
    refuses more than 4,300 digits; both were 500s.
    """
    value = str(text).strip()
    if not value or len(value) > 19 or not (value.isascii() and value.isdigit()):
        return None
    number = int(value)
    return number if 0 < number <= MAX_ID else None
