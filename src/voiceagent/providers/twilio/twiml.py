"""TwiML for each kind of turn, built with the `twilio` library (never by hand)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from twilio.twiml.voice_response import Gather, VoiceResponse

_MAX_HINTS = 500  # Twilio's limit on Gather hints


@dataclass(frozen=True, slots=True)
class Spoken:
    """A line as Twilio will voice it: our audio when there is some, else `<Say>` of the text."""

    text: str
    audio_url: str | None = None


def _speak(verb: VoiceResponse | Gather, spoken: Spoken) -> None:
    if spoken.audio_url:
        verb.play(spoken.audio_url)
    else:
        verb.say(spoken.text)


def listen(spoken: Spoken, *, action: str, timeout: int, hints: Sequence[str]) -> str:
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
    _speak(gather, spoken)
    return str(response.to_xml())


def hang_up(spoken: Spoken | None = None) -> str:
    response = VoiceResponse()
    if spoken is not None:
        _speak(response, spoken)
    response.hangup()
    return str(response.to_xml())


def transfer(spoken: Spoken, *, number: str, action: str | None = None) -> str:
    response = VoiceResponse()
    _speak(response, spoken)
    response.dial(number, action=action, method="POST" if action else None)
    return str(response.to_xml())


def bridge(spoken: Spoken, *, redirect: str) -> str:
    """A short line while the real one is still being written, then fetch the turn again."""
    response = VoiceResponse()
    _speak(response, spoken)
    response.redirect(redirect, method="POST")
    return str(response.to_xml())
