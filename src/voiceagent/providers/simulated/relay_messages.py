"""The messages a ConversationRelay service may send, checked as Twilio checks them."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_DIGITS = re.compile(r"^[0-9w#*]+$")


class InvalidMessage(ValueError):
    """A message ConversationRelay would refuse (error 64107) and drop."""


def parse_message(raw: str | bytes) -> dict[str, Any]:
    """A service message, checked as ConversationRelay checks it."""
    if isinstance(raw, bytes):
        raise InvalidMessage("a binary frame")
    try:
        message = json.loads(raw)
    except json.JSONDecodeError:
        raise InvalidMessage("not JSON") from None
    if not isinstance(message, dict):
        raise InvalidMessage("not a JSON object")
    match message.get("type"):
        case "text":
            _require(message, "token", str)
            _optional(message, "last", bool)
        case "play":
            _require(message, "source", str)
            _optional(message, "loop", int)
        case "sendDigits":
            if not _DIGITS.match(_require(message, "digits", str)):
                raise InvalidMessage("digits other than 0-9, w, # and *")
        case "language":
            _optional(message, "ttsLanguage", str)
            _optional(message, "transcriptionLanguage", str)
            if "ttsLanguage" not in message and "transcriptionLanguage" not in message:
                raise InvalidMessage("a language message naming no language")
        case "end":
            _optional(message, "handoffData", str)
        case other:
            raise InvalidMessage(f"unknown type {other!r}")
    return message


def _require(message: Mapping[str, Any], name: str, kind: type) -> Any:
    if name not in message:
        raise InvalidMessage(f"no {name}")
    _optional(message, name, kind)
    return message[name]


def _optional(message: Mapping[str, Any], name: str, kind: type) -> None:
    value = message.get(name)
    # bool is an int in Python; JSON keeps them apart, and so does ConversationRelay.
    if value is not None and (
        not isinstance(value, kind) or (kind is not bool and isinstance(value, bool))
    ):
        raise InvalidMessage(f"{name} is not a {kind.__name__}")
