"""ConversationRelay's WebSocket messages: read into our own types, written from them.

In: `setup`, `prompt` (only `last: true` ends the caller's turn), `interrupt`, `dtmf`, `info`,
`error`. Out: `text` (tokens, streamed as written, spaces untouched; `last` on the final one) and
`end` (handoff data is a string: JSON text). See PROTOCOL-NOTES, ConversationRelay.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from voiceagent.providers.base import (
    Digit,
    Interrupted,
    Problem,
    Said,
    SessionStart,
    Speaking,
    StreamEvent,
)
from voiceagent.providers.twilio.webhooks import MAX_SPEECH_CHARS

MAX_MESSAGE_CHARS = 64 * 1024


def read(raw: str | bytes) -> StreamEvent | None:
    """One message from Twilio; None for one that needs nothing (a partial prompt, an info)."""
    if len(raw) > MAX_MESSAGE_CHARS:
        return Problem(f"a message of {len(raw)} characters", malformed=True)
    try:
        message = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return Problem("a message that is not JSON", malformed=True)
    if not isinstance(message, dict):
        return Problem("a message that is not a JSON object", malformed=True)
    kind = message.get("type")
    if kind == "setup":
        custom = message.get("customParameters")
        custom = custom if isinstance(custom, Mapping) else {}
        return SessionStart(
            sid=_text(message.get("callSid")),
            session_id=_text(message.get("sessionId")),
            call_id=_text(custom.get("call_id"))[:64],
        )
    if kind == "prompt":
        if message.get("last") is False:
            return None  # a partial prompt: the caller is still speaking
        return Said(_text(message.get("voicePrompt")).strip()[:MAX_SPEECH_CHARS])
    if kind == "interrupt":
        return Interrupted(
            heard=_text(message.get("utteranceUntilInterrupt")),
            after_ms=_whole(message.get("durationUntilInterruptMs")),
        )
    if kind == "dtmf":
        return Digit(_text(message.get("digit"))[:1])
    if kind == "info":
        return _speaker_event(message)
    if kind == "error":
        return Problem(_text(message.get("description")) or "an error with no description")
    return Problem(f"a message of unknown type {str(kind)[:40]!r}", malformed=True)


def text(token: str, *, last: bool) -> str:
    return json.dumps({"type": "text", "token": token, "last": last})


def end(handoff: Mapping[str, Any]) -> str:
    return json.dumps({"type": "end", "handoffData": json.dumps(dict(handoff))})


def handoff_of(data: str) -> dict[str, Any]:
    """The handoff data we sent with `end`, as Twilio hands it back to the action URL."""
    try:
        value = json.loads(data) if data else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _speaker_event(message: Mapping[str, Any]) -> Speaking | None:
    name, value = message.get("name"), str(message.get("value", "")).lower()
    who = {"agentSpeaking": "agent", "clientSpeaking": "caller"}.get(str(name))
    if who is None or value not in ("on", "off"):
        return None
    return Speaking(who=who, on=value == "on")  # type: ignore[arg-type]


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _whole(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None
