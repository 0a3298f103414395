"""What a client sends, read strictly at the edge: numbers in query strings, headers, cookies and
webhook fields.

`str.isdigit()` says yes to "²" and to 5,000 digits, and `int()` then raises (or a database
integer overflows): every such number goes through `ascii_int`, which answers None for anything
but a plain, bounded decimal, so the caller can ignore the value or refuse it with a 422.
"""

from __future__ import annotations

MAX_INT = 2**31 - 1  # a database INTEGER; no sequence number, offset or page gets near it


def ascii_int(raw: str | None, *, high: int = MAX_INT) -> int | None:
    """The non-negative integer `raw` spells in ASCII digits, if it is at most `high`."""
    if not raw or len(raw) > len(str(high)) or not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if value <= high else None
