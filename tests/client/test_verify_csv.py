"""The offline verifier reads CSV cells escaped against formula injection (no server code)."""

from __future__ import annotations

import pytest
from steward_client.verify import _events, unescape_csv_cell

HEADER = (
    "seq,occurred_at,actor_type,actor_id,actor_label,action,target_type,target_id,"
    "target_label,changes,context,outcome,prev_hash,hash\n"
)


@pytest.mark.parametrize(
    ("cell", "text"),
    [
        ("'=1+1", "=1+1"),
        ("'+1", "+1"),
        ("'-1", "-1"),
        ("'@SUM(A1)", "@SUM(A1)"),
        ("'\tx", "\tx"),
        ("'\rx", "\rx"),
        ("''", "'"),
        ("''=1", "'=1"),
        ("plain", "plain"),
        ("", ""),
        ("a'=b", "a'=b"),
    ],
)
def test_it_removes_exactly_one_leading_quote_before_a_formula_character(cell, text):
    assert unescape_csv_cell(cell) == text


@pytest.mark.parametrize("cell", ["=1+1", "-1", "@x", "\tx", "'", "'x"])
def test_it_refuses_a_cell_the_server_would_have_escaped_differently(cell):
    with pytest.raises(ValueError, match="not escaped"):
        unescape_csv_cell(cell)


def _csv(label: str) -> bytes:
    row = f'1,2026-01-01T00:00:00.000000Z,system,,"{label}",a.b,,,,{{}},{{}},success,{"0" * 64},h\n'
    return (HEADER + row).encode()


def test_a_bundle_without_the_flag_reads_cells_verbatim():
    (event,) = _events(_csv("'=x"), "csv")
    assert event["actor_label"] == "'=x"
    (event,) = _events(_csv("=x"), "csv")
    assert event["actor_label"] == "=x"


def test_a_bundle_with_the_flag_reads_cells_unescaped():
    (event,) = _events(_csv("'=x"), "csv", "leading-quote")
    assert event["actor_label"] == "=x"
    with pytest.raises(ValueError, match="line 2"):
        list(_events(_csv("=x"), "csv", "leading-quote"))
    with pytest.raises(ValueError, match="unknown csv_formula_escape"):
        list(_events(_csv("x"), "csv", "rot13"))
