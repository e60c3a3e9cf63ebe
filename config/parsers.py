"""Request parsers. Their own module, importing nothing of DRF's views: DRF reads
``DEFAULT_PARSER_CLASSES`` while ``rest_framework.views`` is being imported, so a parser in a
module that imports the views (as config.api does) was a circular import whenever that module
came first (``manage.py migrate`` failed)."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions, parsers

from config.json_depth import MAX_JSON_DEPTH, nested_deeper_than


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing documents nested deeper than ``MAX_JSON_DEPTH``."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from exc
        if nested_deeper_than(data, MAX_JSON_DEPTH):
            raise exceptions.ParseError(
                f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels."
            )
        return data
