"""TwiML for each kind of turn, built with the `twilio` library (never by hand)."""

from __future__ import annotations

from collections.abc import Sequence

from twilio.twiml.voice_response import VoiceResponse

_MAX_HINTS = 500  # Twilio's limit on Gather hints


def listen(text: str, *, action: str, timeout: int, hints: Sequence[str]) -> str:
    """Speak the line inside a speech Gather; silence posts back too (actionOnEmptyResult)."""
    response = VoiceResponse()
    gather = response.gather(
        input="speech",
        action=action,
        method="POST",
        timeout=timeout,
        speech_timeout="auto",
        action_on_empty_result=True,
        hints=", ".join(hints[:_MAX_HINTS]) or None,
    )
    gather.say(text)
    return str(response.to_xml())


def hang_up(text: str | None = None) -> str:
    response = VoiceResponse()
    if text:
        response.say(text)
    response.hangup()
    return str(response.to_xml())


def transfer(text: str, *, number: str, action: str | None = None) -> str:
    response = VoiceResponse()
    response.say(text)
    response.dial(number, action=action, method="POST" if action else None)
    return str(response.to_xml())
