"""The simulated carrier against a real TwiML app on loopback, checked the way Twilio would be."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import uvicorn
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tests.conftest import GUARD
from twilio.request_validator import RequestValidator

from voiceagent.errors import CallNotFound, TelephonyError
from voiceagent.funnel.states import EndReason
from voiceagent.providers.base import OutboundCall
from voiceagent.providers.simulated import (
    HANG_UP,
    AnswerMode,
    CalleeDirectory,
    CallEvent,
    CallLimits,
    CallTranscript,
    EventKind,
    Over,
    PersonaError,
    Reply,
    ScriptedCallee,
    SimulatedCarrier,
    load_persona,
    load_personas,
    twiml,
)
from voiceagent.web.server import serve_in_background

TOKEN = "test-auth-token-0123456789abcdef"
CALLEE = "+14155550142"
AUDIO = b"RIFF" + bytes(48_000)

Handler = Callable[[dict[str, str]], str | Response]


@dataclass
class Received:
    path: str
    method: str
    params: dict[str, str]
    valid: bool


@dataclass
class TwimlApp:
    """A tiny Twilio webhook app: checks signatures (403 otherwise) and answers scripted TwiML."""

    token: str
    base: str = ""
    routes: dict[str, Handler] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)

    async def handle(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        signature = request.headers.get("X-Twilio-Signature", "")
        valid = RequestValidator(self.token).validate(str(request.url), form, signature)
        path = request.url.path
        params = form if request.method == "POST" else dict(request.query_params)
        self.received.append(Received(path, request.method, params, valid))
        if not valid:
            return Response("bad signature", status_code=403)
        handler = self.routes.get(path)
        if handler is None:
            return Response(status_code=204 if path == "/status" else 404)
        answer = handler(params)
        if isinstance(answer, Response):
            return answer
        return Response(f"<Response>{answer}</Response>", media_type="application/xml")

    def hits(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]


class ListeningCallee:
    """A scripted callee that also keeps what it heard before each reply."""

    def __init__(self, replies: Sequence[str | None], answers: AnswerMode = "answer") -> None:
        self._script = ScriptedCallee(replies, answers=answers)
        self.heard: list[tuple[str, ...]] = []

    @property
    def answers(self) -> AnswerMode:
        return self._script.answers

    async def reply(self, heard: Sequence[str]) -> Reply:
        self.heard.append(tuple(heard))
        return await self._script.reply(heard)


@pytest.fixture
async def app() -> AsyncIterator[TwimlApp]:
    twiml_app = TwimlApp(TOKEN)
    asgi = Starlette(routes=[Route("/{rest:path}", twiml_app.handle, methods=["GET", "POST"])])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    twiml_app.base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(asgi, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    yield twiml_app
    server.should_exit = True
    await task
    sock.close()


@pytest.fixture
async def carrier() -> AsyncIterator[SimulatedCarrier]:
    async with SimulatedCarrier(TOKEN, limits=CallLimits(ring_seconds=0)) as sim:
        yield sim


async def run_call(
    carrier: SimulatedCarrier, app: TwimlApp, callee: ListeningCallee | None = None
) -> CallTranscript:
    if callee is not None:
        carrier.directory.register(CALLEE, callee)
    call = OutboundCall(
        to=CALLEE,
        from_="+15005550006",
        url=f"{app.base}/voice?call=c1",
        status_callback=f"{app.base}/status",
    )
    sid = await carrier.place_call(call)
    return await carrier.wait_for(sid, timeout=GUARD)


def kinds(transcript: CallTranscript, kind: EventKind) -> list[CallEvent]:
    return [event for event in transcript.events if event.kind is kind]


async def test_every_request_is_signed_with_the_auth_token(carrier, app):
    app.routes["/voice"] = lambda p: "<Say>Hi</Say><Play>/audio.wav</Play><Hangup/>"
    app.routes["/audio.wav"] = lambda p: Response(AUDIO, media_type="audio/wav")
    transcript = await run_call(carrier, app, ListeningCallee([]))
    assert transcript.errors == []
    assert {r.path for r in app.received} == {"/voice", "/status", "/audio.wav"}
    assert all(r.valid for r in app.received)


async def test_a_carrier_with_another_token_is_refused(app):
    app.routes["/voice"] = lambda p: "<Hangup/>"
    async with SimulatedCarrier("wrong-token", limits=CallLimits(ring_seconds=0)) as impostor:
        transcript = await run_call(impostor, app, ListeningCallee([]))
    assert app.received
    assert not any(r.valid for r in app.received)
    assert transcript.status == "completed"
    assert any("HTTP 403" in error for error in transcript.errors)


def test_verify_signature_accepts_twilio_signatures_only():
    sim = SimulatedCarrier(TOKEN)
    url, params = "https://example.test/twilio/voice", {"CallSid": "CA1", "SpeechResult": "yes"}
    good = RequestValidator(TOKEN).compute_signature(url, params)
    assert sim.verify_signature(url, params, good)
    assert not sim.verify_signature(url, {**params, "SpeechResult": "no"}, good)
    forged = RequestValidator("another-token").compute_signature(url, params)
    assert not sim.verify_signature(url, params, forged)


async def test_status_callbacks_arrive_in_order_around_the_voice_webhook(carrier, app):
    app.routes["/voice"] = lambda p: "<Say>Hello</Say>"
    transcript = await run_call(carrier, app, ListeningCallee([]))
    order = [(r.path, r.params.get("CallStatus")) for r in app.received]
    assert order == [
        ("/status", "ringing"),
        ("/status", "in-progress"),
        ("/voice", "in-progress"),
        ("/status", "completed"),
    ]
    statuses = app.hits("/status")
    assert [s.params["SequenceNumber"] for s in statuses] == ["0", "1", "2"]
    assert "CallDuration" in statuses[-1].params
    assert all("CallDuration" not in s.params for s in statuses[:-1])
    for received in app.received:
        assert received.params["CallSid"] == transcript.sid
        assert received.params["Direction"] == "outbound-api"
        assert received.params["ApiVersion"] == "2010-04-01"
        assert received.params["To"] == CALLEE
    assert transcript.sid.startswith("CA")
    assert len(transcript.sid) == 34


async def test_gather_posts_speech_result_to_the_relative_action(carrier, app):
    app.routes["/voice"] = lambda p: (
        "<Say>Hi, this is Sam, an AI assistant.</Say>"
        '<Gather input="speech" action="turn?n=1" method="POST" timeout="4"'
        ' actionOnEmptyResult="true"><Say>Is now a good time?</Say></Gather>'
    )
    app.routes["/turn"] = lambda p: "<Say>Great.</Say><Hangup/>"
    callee = ListeningCallee(["Sure, go ahead."])
    transcript = await run_call(carrier, app, callee)
    (turn,) = app.hits("/turn")
    assert turn.params["SpeechResult"] == "Sure, go ahead."
    assert turn.params["Confidence"] == "0.92"
    assert callee.heard == [("Hi, this is Sam, an AI assistant.", "Is now a good time?")]
    assert transcript.conversation() == [
        ("agent", "Hi, this is Sam, an AI assistant."),
        ("agent", "Is now a good time?"),
        ("callee", "Sure, go ahead."),
        ("agent", "Great."),
    ]
    assert transcript.status == "completed"


async def test_silence_posts_the_action_without_speech_when_asked(carrier, app):
    app.routes["/voice"] = lambda p: (
        '<Gather input="speech" action="/turn" timeout="4" actionOnEmptyResult="true">'
        "<Say>Still there?</Say></Gather>"
    )
    app.routes["/turn"] = lambda p: "<Hangup/>"
    transcript = await run_call(carrier, app, ListeningCallee([None]))
    (turn,) = app.hits("/turn")
    assert "SpeechResult" not in turn.params
    assert [e.data["seconds"] for e in kinds(transcript, EventKind.SILENCE)] == [4.0]


async def test_silence_falls_through_to_the_next_verb_by_default(carrier, app):
    app.routes["/voice"] = lambda p: (
        '<Gather input="speech" action="/turn"><Say>Hello?</Say></Gather><Say>Goodbye.</Say>'
    )
    callee = ListeningCallee([None])
    transcript = await run_call(carrier, app, callee)
    assert app.hits("/turn") == []
    assert transcript.conversation()[-1] == ("agent", "Goodbye.")
    assert kinds(transcript, EventKind.HANGUP)[-1].data == {"end_of_document": True}


async def test_speech_is_not_heard_by_a_dtmf_only_gather(carrier, app):
    app.routes["/voice"] = lambda p: '<Gather action="/turn"><Say>Say something</Say></Gather>'
    transcript = await run_call(carrier, app, ListeningCallee(["yes"]))
    assert app.hits("/turn") == []
    assert kinds(transcript, EventKind.REPLY)[0].data == {"recognised": False}


async def test_play_downloads_the_whole_file(carrier, app):
    app.routes["/voice"] = lambda p: (
        '<Gather input="speech" action="/turn" actionOnEmptyResult="true">'
        "<Play>/audio.wav?id=abc</Play></Gather>"
    )
    app.routes["/audio.wav"] = lambda p: Response(AUDIO, media_type="audio/wav")
    app.routes["/turn"] = lambda p: "<Hangup/>"
    callee = ListeningCallee(["ok"])
    transcript = await run_call(carrier, app, callee)
    (download,) = app.hits("/audio.wav")
    assert download.method == "GET"
    assert download.params == {"id": "abc"}
    (play,) = kinds(transcript, EventKind.PLAY)
    assert play.data["bytes"] == len(AUDIO)
    assert play.data["content_type"] == "audio/wav"
    assert callee.heard == [("[audio]",)]


async def test_a_failed_play_download_is_recorded_and_the_call_goes_on(carrier, app):
    app.routes["/voice"] = lambda p: "<Play>/missing.wav</Play><Say>Still here.</Say>"
    transcript = await run_call(carrier, app, ListeningCallee([]))
    assert any("missing.wav answered HTTP 404" in error for error in transcript.errors)
    assert transcript.conversation() == [("agent", "Still here.")]


async def test_dial_posts_the_dial_status_to_its_action(carrier, app):
    app.routes["/voice"] = lambda p: (
        '<Say>Transferring you now.</Say><Dial action="/dialled">+14155550199</Dial>'
    )
    app.routes["/dialled"] = lambda p: "<Hangup/>"
    transcript = await run_call(carrier, app, ListeningCallee([]))
    (dialled,) = app.hits("/dialled")
    assert dialled.params["DialCallStatus"] == "completed"
    assert dialled.params["DialCallSid"].startswith("CA")
    assert "DialCallDuration" in dialled.params
    assert transcript.dialled == "+14155550199"
    assert transcript.status == "completed"


async def test_dial_without_action_continues_with_the_next_verb(carrier, app):
    app.routes["/voice"] = lambda p: "<Dial><Number>+14155550199</Number></Dial><Say>Bye.</Say>"
    transcript = await run_call(carrier, app, ListeningCallee([]))
    assert transcript.dialled == "+14155550199"
    assert transcript.conversation() == [("agent", "Bye.")]


async def test_redirect_fetches_the_next_document(carrier, app):
    app.routes["/voice"] = lambda p: '<Redirect method="POST">/next</Redirect><Say>never</Say>'
    app.routes["/next"] = lambda p: "<Say>Moved.</Say><Hangup/><Say>never</Say>"
    transcript = await run_call(carrier, app, ListeningCallee([]))
    assert app.hits("/next")[0].params["CallSid"] == transcript.sid
    assert transcript.conversation() == [("agent", "Moved.")]
    assert kinds(transcript, EventKind.HANGUP)[-1].text == "agent"


async def test_callee_hanging_up_ends_the_call(carrier, app):
    app.routes["/voice"] = lambda p: (
        '<Gather input="speech" action="/turn" actionOnEmptyResult="true"><Say>Hi?</Say></Gather>'
    )
    transcript = await run_call(carrier, app, ListeningCallee([]))
    assert app.hits("/turn") == []
    assert kinds(transcript, EventKind.HANGUP)[-1].text == "callee"
    assert transcript.status == "completed"


@pytest.mark.parametrize(
    "answer",
    [
        Response("boom", status_code=500),
        Response("<Response><Sing/></Response>", media_type="application/xml"),
        Response("<Response>", media_type="application/xml"),
        Response('{"twiml": "no"}', media_type="application/json"),
    ],
    ids=["server-error", "unknown-verb", "broken-xml", "json"],
)
async def test_a_bad_webhook_answer_ends_the_call_as_an_application_error(carrier, app, answer):
    app.routes["/voice"] = lambda p: answer
    callee = ListeningCallee(["never asked"])
    transcript = await run_call(carrier, app, callee)
    assert transcript.status == "completed"
    assert len(transcript.errors) == 1
    assert "application error" in transcript.conversation()[-1][1]
    assert callee.heard == []
    assert app.hits("/status")[-1].params["CallStatus"] == "completed"


async def test_round_trips_are_bounded(app):
    app.routes["/voice"] = lambda p: "<Redirect>/voice</Redirect>"
    limits = CallLimits(ring_seconds=0, max_round_trips=5)
    async with SimulatedCarrier(TOKEN, limits=limits) as sim:
        transcript = await run_call(sim, app, ListeningCallee([]))
    assert len(app.hits("/voice")) == 5
    assert transcript.round_trips == 5
    assert "5 webhook round trips" in transcript.errors[0]


@pytest.mark.parametrize(("answers", "status"), [("busy", "busy"), ("no-answer", "no-answer")])
async def test_unanswered_calls_never_fetch_the_voice_webhook(carrier, app, answers, status):
    transcript = await run_call(carrier, app, ListeningCallee([], answers=answers))
    assert [r.params["CallStatus"] for r in app.received] == ["ringing", status]
    assert app.received[-1].params["CallDuration"] == "0"
    assert transcript.status == status


async def test_a_failed_call_reports_only_failed(carrier, app):
    transcript = await run_call(carrier, app, ListeningCallee([], answers="failed"))
    assert [r.params["CallStatus"] for r in app.received] == ["failed"]
    assert transcript.status == "failed"


async def test_observer_sees_every_event_as_it_happens(app):
    seen: list[tuple[str, EventKind]] = []
    limits = CallLimits(ring_seconds=0)
    app.routes["/voice"] = lambda p: "<Say>Hi</Say><Pause length='2'/>"
    observer = lambda t, e: seen.append((t.sid, e.kind))  # noqa: E731
    async with SimulatedCarrier(TOKEN, limits=limits, observer=observer) as sim:
        transcript = await run_call(sim, app, ListeningCallee([]))
    assert seen == [(transcript.sid, e.kind) for e in transcript.events]
    assert kinds(transcript, EventKind.PAUSE)[0].data == {"seconds": 2.0}


async def test_closing_the_carrier_cancels_live_calls(app):
    class Waits:
        answers: AnswerMode = "answer"

        async def reply(self, heard: Sequence[str]) -> Reply:
            await asyncio.Event().wait()
            return HANG_UP

    app.routes["/voice"] = lambda p: '<Gather input="speech"><Say>Hi</Say></Gather>'
    sim = SimulatedCarrier(TOKEN, limits=CallLimits(ring_seconds=0))
    sim.directory.register(CALLEE, Waits())
    sid = await sim.place_call(OutboundCall(CALLEE, "+15005550006", f"{app.base}/voice", ""))
    with pytest.raises(TimeoutError):
        await sim.wait_for(sid, timeout=0.5)
    await sim.aclose()
    assert sim.transcript(sid).status == "canceled"
    with pytest.raises(TelephonyError):
        await sim.place_call(OutboundCall(CALLEE, "+15005550006", f"{app.base}/voice", ""))


async def test_place_call_refuses_a_number_that_is_not_e164(carrier):
    with pytest.raises(TelephonyError):
        await carrier.place_call(OutboundCall("415-555-0101", "+15005550006", "x", "y"))
    with pytest.raises(CallNotFound):
        carrier.transcript("CA" + "0" * 32)


def test_every_bundled_persona_loads_with_its_own_number():
    personas = load_personas()
    assert len(personas) >= 10
    assert len({p.number for p in personas}) == len(personas)
    by_name = {p.name: p for p in personas}
    assert by_name["busy"].answers == "busy"
    assert by_name["no_answer"].answers == "no-answer"
    assert by_name["silent"].replies == (None, None)
    human = by_name["wants_human"]
    assert human.expectation(handoff_configured=True).status == "transferred"
    unconfigured = human.expectation(handoff_configured=False)
    assert unconfigured.end_reason is EndReason.HANDOFF_UNCONFIGURED
    assert (
        by_name["eager_buyer"].expectation(handoff_configured=False)
        == by_name["eager_buyer"].expect
    )


async def test_unknown_numbers_reach_the_eager_buyer():
    directory = CalleeDirectory(load_personas())
    eager = directory.persona("eager_buyer")
    callee = directory.callee_for("+19995550000")
    assert [await callee.reply([]) for _ in eager.replies] == list(eager.replies)
    assert await callee.reply([]) is HANG_UP


VALID_PERSONA = {
    "name": "x",
    "number": "+14155550101",
    "description": "d",
    "expect": {"status": "busy", "end_reason": None},
}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"number": "4155550101"}, "number"),
        ({"answers": "maybe"}, "answers"),
        ({"expect": {"status": "done", "end_reason": None}}, "expect.status"),
        ({"replies": ["fine", ["a"]]}, "replies.1"),
        ({"mood": "happy"}, "mood"),
    ],
)
def test_an_invalid_persona_names_its_file_and_field(tmp_path: Path, change: dict, field: str):
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(VALID_PERSONA | change))
    with pytest.raises(PersonaError, match=re.escape(field)) as caught:
        load_persona(path)
    assert str(path) in str(caught.value)


def test_unreadable_persona_yaml_names_its_file(tmp_path: Path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: [unclosed")
    with pytest.raises(PersonaError, match="cannot read") as caught:
        load_persona(path)
    assert str(path) in str(caught.value)


def test_duplicate_persona_numbers_are_refused(tmp_path: Path):
    for name in ("a", "b"):
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(VALID_PERSONA | {"name": name}))
    with pytest.raises(PersonaError, match="number"):
        load_personas(tmp_path)


def test_twiml_gather_takes_twilio_defaults():
    (gather,) = twiml.parse('<Response><Gather input="speech dtmf"><Pause/></Gather></Response>')
    assert gather == twiml.Gather(
        action=None,
        method="POST",
        timeout=5.0,
        action_on_empty_result=False,
        speech=True,
        prompts=(twiml.Pause(1.0),),
    )
    with pytest.raises(twiml.TwimlError, match="not allowed inside"):
        twiml.parse("<Response><Gather><Dial>+1</Dial></Gather></Response>")
    with pytest.raises(twiml.TwimlError, match="root"):
        twiml.parse("<Say>hi</Say>")


async def test_duplicate_rate_sends_a_webhook_twice_at_once() -> None:
    seen: list[str] = []

    async def voice(request: Request) -> Response:
        seen.append(str(request.url))
        return Response("<Response><Hangup/></Response>", media_type="application/xml")

    app = Starlette(routes=[Route("/voice", voice, methods=["POST"])])
    async with serve_in_background(lambda _: app) as server:  # type: ignore[arg-type, return-value]
        carrier = SimulatedCarrier("t", limits=CallLimits(duplicate_rate=1.0, ring_seconds=0))
        async with carrier:
            sid = await carrier.place_call(
                OutboundCall(
                    to="+14155550101",
                    from_="+14155550100",
                    url=f"{server.base_url}/voice",
                    status_callback="",
                )
            )
            transcript = await carrier.wait_for(sid, timeout=GUARD)
    webhooks = [e for e in transcript.events if e.kind is EventKind.WEBHOOK]
    assert len(seen) == 2
    assert [bool(e.data.get("duplicate")) for e in webhooks] == [True, False]


def test_persona_marks_a_barge_in_with_over(tmp_path):
    path = tmp_path / "barger.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "barger",
                "number": "+14155550177",
                "description": "Talks over the pitch.",
                "replies": ["Sure.", {"over": "Stop, take me off your list."}, None],
                "expect": {"status": "completed", "end_reason": "caller_dnc"},
            }
        )
    )
    callee = load_persona(path).callee()
    assert not callee.interjects()
    assert asyncio.run(callee.reply([])) == "Sure."
    assert callee.interjects()
    assert asyncio.run(callee.reply([])) == Over("Stop, take me off your list.")
    assert asyncio.run(callee.reply([])) is None


@pytest.mark.parametrize("bad", [{"over": ""}, {"over": "x", "loudly": True}, {"under": "x"}])
def test_persona_over_reply_is_validated(tmp_path, bad):
    path = tmp_path / "bad.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "bad",
                "number": "+14155550178",
                "description": "Broken.",
                "replies": [bad],
                "expect": {"status": "completed", "end_reason": None},
            }
        )
    )
    with pytest.raises(PersonaError, match=r"replies\.0"):
        load_persona(path)


async def test_over_reply_on_gather_is_an_ordinary_reply(carrier, app):
    app.routes["/voice"] = lambda p: (
        '<Gather input="speech" action="/next"><Say>Shall I go on?</Say></Gather>'
    )
    app.routes["/next"] = lambda p: "<Hangup/>"
    callee = ScriptedCallee([Over("No, stop.")])
    carrier.directory.register(CALLEE, callee)
    transcript = await run_call(carrier, app)
    assert app.hits("/next")[0].params["SpeechResult"] == "No, stop."
    assert ("callee", "No, stop.") in transcript.conversation()
