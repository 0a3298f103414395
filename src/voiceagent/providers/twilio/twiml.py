"""TwiML for each kind of turn, built with the `twilio` library (never by hand)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

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


def dial(number: str, *, action: str | None = None) -> str:
    """A transfer whose words were already said (ConversationRelay spoke them)."""
    response = VoiceResponse()
    response.dial(number, action=action, method="POST" if action else None)
    return str(response.to_xml())


def bridge(spoken: Spoken, *, redirect: str) -> str:
    """A short line while the real one is still being written, then fetch the turn again."""
    response = VoiceResponse()
    _speak(response, spoken)
    response.redirect(redirect, method="POST")
    return str(response.to_xml())


@dataclass(frozen=True, slots=True)
class Relay:
    """What a ConversationRelay session is set up with (see PROTOCOL-NOTES, ConversationRelay)."""

    url: str  # wss:// (ws:// on loopback)
    action: str  # fetched when the session ends
    welcome: str  # the opening line, spoken by Twilio's speech before any token of ours
    language: str
    tts_provider: str
    voice: str
    transcription_provider: str
    hints: Sequence[str] = ()
    parameters: Mapping[str, str] = field(default_factory=dict)


def connect_relay(relay: Relay) -> str:
    """`<Connect action><ConversationRelay …><Parameter/></ConversationRelay></Connect>`."""
    response = VoiceResponse()
    connect = response.connect(action=relay.action, method="POST")
    session = connect.conversation_relay(
        url=relay.url,
        welcome_greeting=relay.welcome,
        welcome_greeting_interruptible="any",
        language=relay.language,
        tts_provider=relay.tts_provider,
        voice=relay.voice or None,
        transcription_provider=relay.transcription_provider,
        interruptible="any",
        # Since May 2025 speech during the agent's line is not reported by default: a caller
        # saying "stop calling me" over the opening must still be heard.
        report_input_during_agent_speech="speech",
        dtmf_detection=True,
        hints=", ".join(relay.hints[:_MAX_HINTS]) or None,
        # Speaker events tell the service when the agent's line has finished playing: the
        # silence timer starts there, not when the last token was sent.
        debug="speaker-events",
    )
    for name, value in relay.parameters.items():
        session.parameter(name=name, value=value)
    return str(response.to_xml())
