"""The simulated carrier's ConversationRelay side against a toy relay service on loopback."""

from __future__ import annotations

import pytest
from twilio.twiml.voice_response import VoiceResponse

from voiceagent.providers.simulated import twiml


def relay_twiml(*, url: str = "wss://agent.example/twilio/relay", greeting: str = "Hi") -> str:
    response = VoiceResponse()
    connect = response.connect(action="https://agent.example/twilio/relay/action?call_id=c1")
    relay = connect.conversation_relay(
        url=url, welcome_greeting=greeting, report_input_during_agent_speech="speech", hints="a,b"
    )
    relay.parameter(name="call_id", value="c1")
    relay.parameter(name="campaign", value="spring")
    return str(response)


def test_connect_with_conversation_relay_parses_to_data():
    (verb,) = twiml.parse(relay_twiml(greeting="Hi, this is Sam."))
    assert isinstance(verb, twiml.Connect)
    assert verb.action == "https://agent.example/twilio/relay/action?call_id=c1"
    assert verb.method == "POST"
    assert verb.relay.url == "wss://agent.example/twilio/relay"
    assert verb.relay.welcome_greeting == "Hi, this is Sam."
    assert verb.relay.parameters == {"call_id": "c1", "campaign": "spring"}
    assert verb.relay.attributes["reportInputDuringAgentSpeech"] == "speech"
    assert verb.relay.attributes["hints"] == "a,b"


@pytest.mark.parametrize(
    ("document", "complaint"),
    [
        ("<Connect><Stream url='wss://x/s'/></Connect>", "must hold one <ConversationRelay>"),
        ("<Connect/>", "must hold one <ConversationRelay>"),
        ("<Connect><ConversationRelay url='https://x/r'/></Connect>", "not a wss:// URL"),
        ("<Connect><ConversationRelay/></Connect>", "not a wss:// URL"),
        (
            "<Connect><ConversationRelay url='wss://x/r'><Say>Hi</Say></ConversationRelay></Connect>",
            "<Say> is not allowed inside <ConversationRelay>",
        ),
        (
            "<Connect><ConversationRelay url='wss://x/r'><Parameter value='1'/>"
            "</ConversationRelay></Connect>",
            "<Parameter> inside <ConversationRelay> has no name",
        ),
        (
            "<Connect method='PUT'><ConversationRelay url='wss://x/r'/></Connect>",
            "neither GET nor POST",
        ),
    ],
)
def test_connect_that_twilio_would_refuse_is_an_error(document, complaint):
    with pytest.raises(twiml.TwimlError, match=complaint):
        twiml.parse(f"<Response>{document}</Response>")


def test_connect_on_loopback_may_use_plain_ws_and_omit_the_greeting():
    (verb,) = twiml.parse(
        "<Response><Connect><ConversationRelay url='ws://127.0.0.1:8000/twilio/relay'/>"
        "</Connect></Response>"
    )
    assert isinstance(verb, twiml.Connect)
    assert verb.action is None
    assert verb.relay.welcome_greeting is None
    assert verb.relay.parameters == {}
