"""Twilio's webhook forms, read into our own types: nothing past this module reads a form field."""

from __future__ import annotations

from collections.abc import Mapping

from voiceagent.providers.base import Input, Pickup, Quiet, Said, SessionEnd, StatusReport

MAX_SPEECH_CHARS = 2000  # a longer SpeechResult is cut: no one says that much in one turn

# Twilio's CallStatus -> ours.
TWILIO_STATUS: dict[str, str] = {
    "queued": "queued",
    "initiated": "queued",
    "ringing": "ringing",
    "in-progress": "in_progress",
    "answered": "in_progress",
    "completed": "completed",
    "busy": "busy",
    "failed": "failed",
    "no-answer": "no_answer",
    "canceled": "canceled",
}
DIAL_STATUSES = frozenset({"completed", "answered", "busy", "no-answer", "failed", "canceled"})
SESSION_STATUSES = frozenset({"ended", "completed", "failed"})


def sid_of(form: Mapping[str, str]) -> str:
    return form.get("CallSid", "")


def turn_input(form: Mapping[str, str], *, number: int | None, gather_timeout: float) -> Input:
    """A `<Gather>`'s result: the first webhook is the pickup; an empty result is silence."""
    if number == 0:
        return Pickup()
    speech = form.get("SpeechResult", "").strip()[:MAX_SPEECH_CHARS]
    return Said(speech) if speech else Quiet(gather_timeout)


def status_report(form: Mapping[str, str]) -> StatusReport | None:
    """A status callback, or None for a CallStatus we do not know."""
    status = TWILIO_STATUS.get(form.get("CallStatus", ""))
    if status is None:
        return None
    return StatusReport(
        sid=sid_of(form),
        status=status,
        sequence=_whole(form.get("SequenceNumber", "")),
        duration_seconds=_whole(form.get("CallDuration", "")),
    )


def dial_result(form: Mapping[str, str]) -> tuple[str, int | None] | None:
    """A transfer's `<Dial action>`: the leg's status and its length, or None when unreadable."""
    status = form.get("DialCallStatus", "")
    if status not in DIAL_STATUSES:
        return None
    return status, _whole(form.get("DialCallDuration", ""))


def fallback_error(form: Mapping[str, str]) -> str:
    """What Twilio says went wrong when it calls the FallbackUrl."""
    return f"{form.get('ErrorCode', '?')} at {form.get('ErrorUrl', '?')}"


def session_end(form: Mapping[str, str]) -> SessionEnd:
    """The `<Connect action>` request that follows a ConversationRelay session."""
    status = form.get("SessionStatus", "")
    if status not in SESSION_STATUSES:
        status = "failed"
    error = ""
    if status == "failed":
        error = f"ConversationRelay {form.get('ErrorCode', '?')}: {form.get('ErrorMessage', '')}"
    return SessionEnd(
        sid=sid_of(form), status=status, handoff=form.get("HandoffData", ""), error=error.strip()
    )


def _whole(value: str) -> int | None:
    return int(value) if value.isascii() and value.isdigit() else None
