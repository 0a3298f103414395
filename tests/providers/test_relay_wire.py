"""ConversationRelay's messages read into our types, and the TwiML that opens a session."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voiceagent.errors import ConfigError
from voiceagent.providers.base import (
    Digit,
    Interrupted,
    Problem,
    Said,
    SessionStart,
    Speaking,
)
from voiceagent.providers.twilio import relay as wire
from voiceagent.providers.twilio import twiml, webhooks
from voiceagent.settings import get_settings


def test_setup_names_the_call_from_its_custom_parameters() -> None:
    raw = json.dumps(
        {
            "type": "setup",
            "sessionId": "VX1",
            "callSid": "CA1",
            "customParameters": {"call_id": "abc"},
        }
    )
    assert wire.read(raw) == SessionStart(sid="CA1", session_id="VX1", call_id="abc")


def test_only_a_last_prompt_is_a_caller_turn() -> None:
    partial = {"type": "prompt", "voicePrompt": "stop", "last": False}
    whole = {"type": "prompt", "voicePrompt": " stop calling me ", "lang": "en-US", "last": True}
    assert wire.read(json.dumps(partial)) is None
    assert wire.read(json.dumps(whole)) == Said("stop calling me")


@pytest.mark.parametrize("duration", [1200, "1200", 1200.0])
def test_an_interrupt_accepts_its_duration_as_number_or_string(duration: object) -> None:
    raw = {
        "type": "interrupt",
        "utteranceUntilInterrupt": "Hi, this",
        "durationUntilInterruptMs": duration,
    }
    assert wire.read(json.dumps(raw)) == Interrupted(heard="Hi, this", after_ms=1200)


def test_dtmf_info_and_errors() -> None:
    assert wire.read('{"type": "dtmf", "digit": "5"}') == Digit("5")
    assert wire.read('{"type": "info", "name": "agentSpeaking", "value": "off"}') == Speaking(
        who="agent", on=False
    )
    assert wire.read('{"type": "info", "name": "tokensPlayed", "value": "x"}') is None
    problem = wire.read('{"type": "error", "description": "Invalid message"}')
    assert problem == Problem("Invalid message")


@pytest.mark.parametrize("raw", ["not json", "[1, 2]", '{"type": "nonsense"}', "{" * 70_000])
def test_malformed_messages_are_problems_not_crashes(raw: str) -> None:
    problem = wire.read(raw)
    assert isinstance(problem, Problem)
    assert problem.malformed


@given(st.text(max_size=300))
def test_any_text_reads_as_an_event_a_problem_or_nothing(raw: str) -> None:
    event = wire.read(raw)
    assert event is None or isinstance(
        event, SessionStart | Said | Interrupted | Digit | Speaking | Problem
    )


def test_tokens_keep_their_spaces_and_end_carries_a_json_string() -> None:
    assert json.loads(wire.text(" Hello", last=False)) == {
        "type": "text",
        "token": " Hello",
        "last": False,
    }
    end = json.loads(wire.end({"transfer": True, "end_reason": "transferred"}))
    assert end["type"] == "end"
    assert isinstance(end["handoffData"], str)
    assert wire.handoff_of(end["handoffData"]) == {"transfer": True, "end_reason": "transferred"}
    assert wire.handoff_of("not json") == {}


def test_the_session_end_form_is_read_into_our_words() -> None:
    ended = webhooks.session_end({"CallSid": "CA1", "SessionStatus": "ended", "HandoffData": "{}"})
    assert (ended.status, ended.handoff, ended.error) == ("ended", "{}", "")
    failed = webhooks.session_end(
        {"SessionStatus": "failed", "ErrorCode": "64105", "ErrorMessage": "socket ended"}
    )
    assert failed.status == "failed"
    assert "64105" in failed.error
    assert webhooks.session_end({"SessionStatus": "weird"}).status == "failed"


def test_connect_twiml_carries_the_greeting_hints_and_call_id() -> None:
    xml = twiml.connect_relay(
        twiml.Relay(
            url="wss://agent.example.com/twilio/relay",
            action="https://agent.example.com/twilio/relay/action?call_id=abc",
            welcome='Hi, it\'s Maya & "friends".',
            language="en-US",
            tts_provider="ElevenLabs",
            voice="21m00Tcm4TlvDq8ikWAM",
            transcription_provider="Deepgram",
            hints=["payroll", "Gusto"],
            parameters={"call_id": "abc"},
        )
    )
    connect = ET.fromstring(xml).find("Connect")
    assert connect is not None
    assert connect.get("action") == "https://agent.example.com/twilio/relay/action?call_id=abc"
    relay = connect.find("ConversationRelay")
    assert relay is not None
    assert relay.get("welcomeGreeting") == 'Hi, it\'s Maya & "friends".'
    assert relay.get("reportInputDuringAgentSpeech") == "speech"
    assert relay.get("hints") == "payroll, Gusto"
    assert relay.get("ttsProvider") == "ElevenLabs"
    parameter = relay.find("Parameter")
    assert parameter is not None
    assert (parameter.get("name"), parameter.get("value")) == ("call_id", "abc")


@pytest.mark.parametrize(
    ("provider", "voice", "ok"),
    [
        ("ElevenLabs", None, True),  # ELEVENLABS_VOICE_ID
        ("ElevenLabs", "UgBBYS2sOqTuMpoF3BR0-flash_v2_5-1.2_1.0_1.0", True),
        ("Google", "en-US-Journey-O", True),
        ("Amazon", "Joanna-Neural", True),
        ("Google", None, False),
        ("Amazon", "21m00Tcm4TlvDq8ikWAM", False),
        ("ElevenLabs", "Joanna-Neural", False),
    ],
)
def test_a_relay_voice_twilio_would_refuse_fails_at_start_up(
    provider: str, voice: str | None, ok: bool
) -> None:
    values = {"voice_transport": "relay", "relay_tts_provider": provider, "relay_voice": voice}
    if ok:
        assert get_settings(**values).relay_voice_name
    else:
        with pytest.raises(ConfigError, match="RELAY_VOICE"):
            get_settings(**values)


def test_the_gather_transport_does_not_check_relay_voices() -> None:
    assert get_settings(relay_tts_provider="Google").voice_transport == "gather"
