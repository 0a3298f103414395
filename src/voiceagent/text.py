"""Text UTF-8 can encode. JSON can spell text that is not Unicode at all: a lone surrogate
("\\ud800") decodes to a Python string that no database, log line or response can encode.
The API refuses it (`web/inputs.py`); anything else has it replaced by U+FFFD here."""

from __future__ import annotations

import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")


def utf8_safe(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD; `text` itself when it has none."""
    if text.isascii() or not _SURROGATE.search(text):
        return text
    return _SURROGATE.sub("\ufffd", text)


def utf8_safe_json(value: Any) -> Any:
    """A JSON value with `utf8_safe` applied to every string in it, keys included."""
    if isinstance(value, str):
        return utf8_safe(value)
    if isinstance(value, dict):
        return {utf8_safe_json(key): utf8_safe_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [utf8_safe_json(item) for item in value]
    return value
