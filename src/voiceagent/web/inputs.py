"""What a client sends, read strictly at the edge, and refused in one shape when it is wrong.

`str.isdigit()` says yes to "²" and to 5,000 digits, and `int()` then raises (or a database
integer overflows): every number in a query string, a header, a cookie or a webhook field goes
through `ascii_int`, which answers None for anything but a plain, bounded decimal, so the caller
can ignore the value or refuse it.

Text that is not Unicode (JSON's lone surrogates, see `voiceagent.text`) is refused in a request
body in any field, at any depth, keys included (`is_utf8`).

A refusal is FastAPI's own 422, naming the field: `{"detail": [{"loc": ["body", "phone"], "msg",
"type"}]}`, whether pydantic found the fault or our code did (`refuse`, `phone_at`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.exceptions import RequestValidationError

from voiceagent.errors import InvalidPhoneNumber
from voiceagent.text import utf8_safe

MAX_INT = 2**31 - 1  # a database INTEGER; no sequence number, offset or page gets near it


def ascii_int(raw: str | None, *, high: int = MAX_INT) -> int | None:
    """The non-negative integer `raw` spells in ASCII digits, if it is at most `high`."""
    if not raw or len(raw) > len(str(high)) or not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if value <= high else None


def refuse(loc: tuple[str | int, ...], message: str, kind: str = "value_error") -> Exception:
    """A 422 in FastAPI's shape for a fault our code found in the field at `loc`."""
    return RequestValidationError([{"type": kind, "loc": loc, "msg": message}])


@contextmanager
def phone_at(*loc: str) -> Iterator[None]:
    """An InvalidPhoneNumber raised inside is a 422 naming the field the number came from."""
    try:
        yield
    except InvalidPhoneNumber as exc:
        raise refuse(loc, str(exc), "phone_number") from None


def is_utf8(value: object) -> bool:
    """Whether every string in a JSON value, keys included, can be encoded as UTF-8."""
    pending = [value]
    while pending:  # a loop, not recursion: JSON nests as deep as the parser allowed
        item = pending.pop()
        if isinstance(item, str):
            if utf8_safe(item) is not item:
                return False
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return True
