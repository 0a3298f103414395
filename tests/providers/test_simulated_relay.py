"""The simulated carrier's ConversationRelay side against a toy relay service on loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI, Request, Response, WebSocket, WebSocketDisconnect
from tests.conftest import GUARD, until
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

from voiceagent.providers.base import OutboundCall
from voiceagent.providers.simulated import (
    Callee,
    CallEvent,
    CallLimits,
    CallTranscript,
    EventKind,
    Over,
    ScriptedCallee,
    SimulatedCarrier,
    twiml,
)
from voiceagent.web.server import serve_in_background


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


# A toy relay service: the voice webhook answers <Connect><ConversationRelay>, the socket runs a
# scripted agent, and the action callback's TwiML is the test's to choose.

TOKEN = "relay-test-token-0123456789abcdef"
CALLEE = "+14155550143"
FROM = "+15005550006"
OPENING = ["Great", ", thanks", "  for ", "taking", " my call."]  # odd spaces on purpose


@dataclass
class ToyAgent:
    """What the toy service does on the socket, and everything it saw."""

    token: str = TOKEN  # the token it checks the upgrade's signature with
    greeting: str = "Hi, this is Sam from Acme."
    lines: list[list[str]] = field(default_factory=lambda: [OPENING])  # one per prompt, cycling
    end_after: int | None = None  # prompts answered before it sends `end`
    handoff: dict[str, str] = field(default_factory=lambda: {"reason": "transfer"})
    silence_timer: float | None = None  # speaks again when no prompt comes for this long
    hold_first_line: bool = False  # stops after one token of its first line until interrupted
    junk: list[str | bytes] = field(default_factory=list)  # sent after setup
    action_twiml: str = "<Say>Goodbye.</Say><Hangup/>"
    base: str = ""
    upgrades: list[bool] = field(default_factory=list)  # signature valid, per upgrade
    received: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, str]] = field(default_factory=list)
    close_codes: list[int] = field(default_factory=list)
    interrupted: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def ws_url(self) -> str:
        return self.base.replace("http://", "ws://") + "/twilio/relay"

    def prompts(self) -> list[str]:
        return [m["voicePrompt"] for m in self.received if m["type"] == "prompt"]

    def build(self, base: str) -> FastAPI:
        self.base = base
        app = FastAPI()

        @app.post("/twilio/voice")
        async def voice() -> Response:
            response = VoiceResponse()
            connect = response.connect(
                action=f"{base}/twilio/relay/action?call_id=c1", method="POST"
            )
            relay = connect.conversation_relay(
                url=self.ws_url,
                welcome_greeting=self.greeting,
                report_input_during_agent_speech="speech",
                hints="Acme,payroll",
            )
            relay.parameter(name="call_id", value="c1")
            relay.parameter(name="lead", value="Dana Reyes")
            return Response(str(response), media_type="application/xml")

        @app.post("/twilio/relay/action")
        async def action(request: Request) -> Response:
            form = {k: str(v) for k, v in (await request.form()).items()}
            signature = request.headers.get("X-Twilio-Signature", "")
            if not RequestValidator(TOKEN).validate(str(request.url), form, signature):
                return Response("bad signature", status_code=403)
            self.actions.append(form)
            return Response(f"<Response>{self.action_twiml}</Response>", media_type="text/xml")

        @app.post("/status")
        async def status() -> Response:
            return Response(status_code=204)

        @app.websocket("/twilio/relay")
        async def relay_socket(ws: WebSocket) -> None:
            signature = ws.headers.get("x-twilio-signature", "")
            valid = bool(RequestValidator(self.token).validate(self.ws_url, {}, signature))
            self.upgrades.append(valid)
            if not valid:
                await ws.close(code=1008)  # before accept: the upgrade is refused with 403
                return
            await ws.accept()
            await self.converse(ws)

        return app

    async def converse(self, ws: WebSocket) -> None:
        speaking: asyncio.Task[None] | None = None
        answered = 0
        try:
            self.received.append(json.loads(await ws.receive_text()))
            for junk in self.junk:
                await (ws.send_bytes(junk) if isinstance(junk, bytes) else ws.send_text(junk))
            while True:
                try:
                    raw = await asyncio.wait_for(ws.receive_text(), self.silence_timer)
                except TimeoutError:
                    speaking = asyncio.create_task(self.say(ws, ["Are you ", "still there?"]))
                    continue
                message = json.loads(raw)
                self.received.append(message)
                if message["type"] == "interrupt":
                    self.interrupted.set()
                    if speaking is not None:
                        speaking.cancel()
                elif message["type"] == "prompt":
                    answered += 1
                    line = self.lines[(answered - 1) % len(self.lines)]
                    hold = self.hold_first_line and answered == 1
                    ending = answered == self.end_after
                    speaking = asyncio.create_task(self.say(ws, line, hold=hold, end=ending))
        except WebSocketDisconnect as exc:
            self.close_codes.append(exc.code)
        finally:
            if speaking is not None:
                speaking.cancel()

    async def say(
        self, ws: WebSocket, tokens: list[str], *, hold: bool = False, end: bool = False
    ) -> None:
        for index, token in enumerate(tokens):
            last = index == len(tokens) - 1
            await ws.send_text(json.dumps({"type": "text", "token": token, "last": last}))
            if hold and index == 0:
                await asyncio.wait_for(self.interrupted.wait(), GUARD)
                return  # an interrupted agent stops talking
        if end:
            await ws.send_text(json.dumps({"type": "end", "handoffData": json.dumps(self.handoff)}))


@pytest.fixture
async def agent() -> AsyncIterator[ToyAgent]:
    toy = ToyAgent()
    async with serve_in_background(toy.build):
        yield toy


@pytest.fixture
async def carrier() -> AsyncIterator[SimulatedCarrier]:
    limits = CallLimits(ring_seconds=0, relay_settle=0.3, relay_patience=GUARD)
    async with SimulatedCarrier(TOKEN, limits=limits) as sim:
        yield sim


async def call(carrier: SimulatedCarrier, agent: ToyAgent, callee: Callee) -> CallTranscript:
    carrier.directory.register(CALLEE, callee)
    outbound = OutboundCall(
        to=CALLEE,
        from_=FROM,
        url=f"{agent.base}/twilio/voice",
        status_callback=f"{agent.base}/status",
    )
    sid = await carrier.place_call(outbound)
    return await carrier.wait_for(sid, timeout=GUARD)


def events(transcript: CallTranscript, kind: EventKind) -> list[CallEvent]:
    return [event for event in transcript.events if event.kind is kind]


async def test_conversation_streams_tokens_into_exact_agent_lines(carrier, agent):
    agent.end_after = 2
    agent.lines = [OPENING, ["Wonderful", ". Bye", " now!"]]
    transcript = await call(carrier, agent, ScriptedCallee(["Hello?", "Sure, go ahead.", "Spare."]))
    assert agent.upgrades == [True]
    assert agent.prompts()[:2] == ["Hello?", "Sure, go ahead."]
    prompt = next(m for m in agent.received if m["type"] == "prompt")
    assert prompt == {"type": "prompt", "voicePrompt": "Hello?", "lang": "en-US", "last": True}
    assert transcript.conversation()[:5] == [
        ("agent", "Hi, this is Sam from Acme."),
        ("callee", "Hello?"),
        ("agent", "Great, thanks  for taking my call."),
        ("callee", "Sure, go ahead."),
        ("agent", "Wonderful. Bye now!"),
    ]
    says = events(transcript, EventKind.SAY)
    assert says[0].data == {"relay": True, "welcome": True}
    assert says[1].data["tokens"] == len(OPENING)
    assert all(e.data["relay"] for e in events(transcript, EventKind.REPLY))
    timings = transcript.relay_timings()
    assert len(timings) == 2
    assert all(0 <= first <= last for first, last in timings)
    assert transcript.errors == []


async def test_setup_message_carries_the_call_and_the_custom_parameters(carrier, agent):
    transcript = await call(carrier, agent, ScriptedCallee([]))
    setup = agent.received[0]
    assert setup.pop("sessionId").startswith("VX")
    assert setup == {
        "type": "setup",
        "accountSid": carrier.account_sid,
        "callSid": transcript.sid,
        "from": FROM,
        "to": CALLEE,
        "forwardedFrom": "",
        "callerName": "",
        "direction": "outbound-api",
        "callType": "PSTN",
        "callStatus": "IN-PROGRESS",
        "customParameters": {"call_id": "c1", "lead": "Dana Reyes"},
    }


async def test_refused_upgrade_fails_the_session_and_the_action_says_so(carrier, agent):
    agent.token = "another-token"
    agent.action_twiml = "<Say>Sorry, something went wrong.</Say><Hangup/>"
    transcript = await call(carrier, agent, ScriptedCallee(["Hello?"]))
    assert agent.upgrades == [False]
    (action,) = agent.actions
    assert action["SessionStatus"] == "failed"
    assert action["ErrorCode"] == "64102"
    assert "403" in action["ErrorMessage"]
    assert action["CallStatus"] == "in-progress"
    assert ("agent", "Sorry, something went wrong.") in transcript.conversation()
    assert any("refused the WebSocket upgrade" in error for error in transcript.errors)
    assert transcript.status == "completed"


async def test_caller_hang_up_ends_the_session_completed_and_the_call_with_it(carrier, agent):
    agent.action_twiml = "<Say>Not heard: the caller is gone.</Say>"
    transcript = await call(carrier, agent, ScriptedCallee(["Hello?"]))
    await until(lambda: agent.close_codes, what="the carrier to close the socket")
    (action,) = agent.actions
    assert action["SessionStatus"] == "completed"
    assert action["CallStatus"] == "completed"
    assert action["CallSid"] == transcript.sid
    assert action["SessionId"] == agent.received[0]["sessionId"]
    assert int(action["SessionDuration"]) >= 0
    assert "HandoffData" not in action
    assert [e.text for e in events(transcript, EventKind.HANGUP)] == ["callee"]
    assert "Not heard: the caller is gone." not in [line for _, line in transcript.conversation()]


async def test_end_with_handoff_data_then_the_action_dial_is_obeyed(carrier, agent):
    agent.end_after = 1
    agent.handoff = {"reason": "transfer", "call_id": "c1"}
    agent.action_twiml = "<Dial>+14155550000</Dial>"
    transcript = await call(carrier, agent, ScriptedCallee(["Put me through.", "Spare."]))
    (action,) = agent.actions
    assert action["SessionStatus"] == "ended"
    assert json.loads(action["HandoffData"]) == {"reason": "transfer", "call_id": "c1"}
    assert action["CallStatus"] == "in-progress"
    assert action["Direction"] == "outbound-api"
    assert action["AccountSid"] == carrier.account_sid
    assert transcript.dialled == "+14155550000"
    (session,) = events(transcript, EventKind.SESSION)
    assert session.text == "ended"
    assert json.loads(str(session.data["handoff_data"]))["reason"] == "transfer"


async def test_over_reply_interrupts_the_agent_then_prompts(carrier, agent):
    agent.hold_first_line = True
    agent.end_after = 2
    agent.lines = [["I'd love ", "to tell you ", "about Acme."], ["Understood", ", goodbye."]]
    callee = ScriptedCallee(["Sure.", Over("Stop, take me off your list."), "Spare."])
    transcript = await call(carrier, agent, callee)
    kinds = [m["type"] for m in agent.received]
    interrupt_at = kinds.index("interrupt")
    interrupt = agent.received[interrupt_at]
    assert interrupt["utteranceUntilInterrupt"] == "I'd love "
    assert isinstance(interrupt["durationUntilInterruptMs"], int)
    assert agent.received[interrupt_at + 1]["voicePrompt"] == "Stop, take me off your list."
    cut = next(e for e in events(transcript, EventKind.SAY) if e.data.get("interrupted"))
    assert cut.data["heard"] == "I'd love "
    (interruption,) = events(transcript, EventKind.INTERRUPT)
    assert interruption.text == "I'd love "
    assert interruption.data["words"] == "Stop, take me off your list."
    over = [e for e in events(transcript, EventKind.REPLY) if e.data.get("over")]
    assert [e.text for e in over] == ["Stop, take me off your list."]
    assert agent.actions[0]["SessionStatus"] == "ended"


async def test_silence_sends_nothing_and_the_agent_speaks_again(carrier, agent):
    agent.silence_timer = 1.0
    agent.end_after = 2
    transcript = await call(carrier, agent, ScriptedCallee(["Hello?", None, "Yes, sorry.", "x"]))
    assert agent.prompts()[:2] == ["Hello?", "Yes, sorry."]
    assert events(transcript, EventKind.SILENCE)
    script = transcript.conversation()
    assert script.index(("callee", "(silence)")) < script.index(("agent", "Are you still there?"))
    assert script.index(("agent", "Are you still there?")) < script.index(("callee", "Yes, sorry."))


async def test_malformed_messages_are_recorded_and_dropped(carrier, agent):
    agent.junk = ["not json", '{"type": "dance"}', '{"type": "text", "token": 5}', b"\x00"]
    agent.end_after = 1
    transcript = await call(carrier, agent, ScriptedCallee(["Hello?", "Spare."]))
    invalid = [error for error in transcript.errors if error.startswith("64107")]
    assert len(invalid) == 4
    assert ("agent", "Great, thanks  for taking my call.") in transcript.conversation()
    assert agent.actions[0]["SessionStatus"] == "ended"


async def test_ten_malformed_messages_in_a_row_close_the_socket_with_1007(carrier, agent):
    agent.junk = ['{"type": "dance"}'] * 10
    transcript = await call(carrier, agent, ScriptedCallee([None]))
    assert agent.close_codes == [1007]
    (action,) = agent.actions
    assert action["SessionStatus"] == "failed"
    assert action["ErrorCode"] == "64107"
    assert len([e for e in transcript.errors if e.startswith("64107")]) == 10


async def test_account_hang_up_closes_the_socket_and_reports_the_session(carrier, agent):
    agent.action_twiml = "<Say>Not heard: the call is over.</Say>"
    carrier.directory.register(CALLEE, ScriptedCallee([None] * 5))
    outbound = OutboundCall(
        to=CALLEE, from_=FROM, url=f"{agent.base}/twilio/voice", status_callback=None
    )
    sid = await carrier.place_call(outbound)
    await until(lambda: agent.received, what="the setup message")
    await carrier.hang_up(sid)
    transcript = await carrier.wait_for(sid, timeout=GUARD)
    await until(lambda: agent.close_codes, what="the carrier to close the socket")
    (action,) = agent.actions
    assert (action["SessionStatus"], action["CallStatus"]) == ("completed", "completed")
    assert [e.text for e in events(transcript, EventKind.HANGUP)] == ["account"]
    assert transcript.status == "completed"


async def test_a_runaway_session_stops_at_the_round_trip_limit(agent):
    agent.lines = [["Tell ", "me more."]]
    limits = CallLimits(ring_seconds=0, relay_settle=0.05, max_round_trips=4)
    async with SimulatedCarrier(TOKEN, limits=limits) as sim:
        transcript = await call(sim, agent, ScriptedCallee(["More?"] * 50))
    # One round trip is the voice webhook; the caller's turns take the rest.
    assert agent.prompts() == ["More?"] * 3
    assert any("gave up after 4 round trips" in error for error in transcript.errors)
    assert [e.text for e in events(transcript, EventKind.HANGUP)] == ["carrier"]
    assert agent.actions[0]["SessionStatus"] == "completed"
