"""One test per row of the SPEC's behaviour matrix: the simulated carrier drives the real app
served by uvicorn on loopback, over real HTTP, with signed webhooks and TwiML obeyed."""

from __future__ import annotations

from typing import Any

import pytest
from tests.integration.conftest import TRANSPORTS, on_transport, silence

from voiceagent.providers.simulated import CalleeDirectory, EventKind, ScriptedCallee

BUYER = "+14155550101"
CALLEE = "+14155550142"


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def live_app(live_app: Any, transport: str) -> Any:
    """Every row runs on the Gather loop and on ConversationRelay."""
    return on_transport(live_app, transport)


def _directory(*replies: str | None) -> CalleeDirectory:
    directory = CalleeDirectory.bundled()
    directory.register(CALLEE, ScriptedCallee(list(replies)))
    return directory


def agent_lines(call: dict[str, Any]) -> list[str]:
    return [m["text"] for m in call["messages"] if m["role"] == "agent"]


def caller_intents(call: dict[str, Any]) -> list[str | None]:
    return [m["intent"] for m in call["messages"] if m["role"] == "caller"]


def path(call: dict[str, Any]) -> list[str]:
    return [t["from_state"] for t in call["transitions"]][:1] + [
        t["to_state"] for t in call["transitions"]
    ]


async def test_full_funnel_converts(live_app: Any) -> None:
    async with live_app() as live:
        call = await live.run_call(BUYER)
    assert path(call) == ["INIT", "INTRO", "QUALIFY", "PITCH", "CLOSE", "END"]
    assert (call["status"], call["end_reason"], call["outcome"]) == (
        "completed",
        "completed",
        "converted",
    )
    opening = agent_lines(call)[0]
    assert "AI" in opening  # the proactive disclosure of the compliance defaults


async def test_full_funnel_declined_at_close(live_app: Any) -> None:
    directory = _directory(
        "Sure, go ahead.",
        "We do it in QuickBooks.",
        "About twenty people.",
        "Okay that sounds useful.",
        "No thanks, I'll pass.",
    )
    async with live_app(directory) as live:
        call = await live.run_call(CALLEE)
    assert (call["end_reason"], call["outcome"], call["state"]) == ("completed", "declined", "END")


async def test_ai_question_is_answered_plainly_and_the_funnel_goes_on(live_app: Any) -> None:
    directory = _directory("Sure.", "Wait, am I talking to a robot?", "About twenty people.")
    async with live_app(directory) as live:
        call = await live.run_call(CALLEE)
    intents = caller_intents(call)
    assert intents[1] == "ai_question"
    reply = agent_lines(call)[2]
    assert "AI" in reply
    # Still in QUALIFY after the disclosure, and the answer that follows moves it on.
    messages = call["messages"]
    after = next(m for m in messages if m["role"] == "agent" and m["text"] == reply)
    assert after["state"] == "QUALIFY"
    assert "QUALIFY" in path(call)


async def test_human_request_transfers_with_dial(live_app: Any) -> None:
    async with live_app(
        _directory("Sure.", "Can I talk to a real person?"), handoff_number="+14155550199"
    ) as live:
        call = await live.run_call(CALLEE)
        transcript = live.carrier.transcript(call["twilio_sid"])
    assert call["status"] == "transferred"  # stays so after Twilio's final callback
    assert call["end_reason"] == "transferred"
    assert transcript.dialled == "+14155550199"
    assert agent_lines(call)[-1].startswith("Transferring you now")


async def test_human_request_without_handoff_number_ends_politely(live_app: Any) -> None:
    async with live_app(_directory("Sure.", "Let me speak to a human please.")) as live:
        call = await live.run_call(CALLEE)
        transcript = live.carrier.transcript(call["twilio_sid"])
    assert (call["status"], call["end_reason"]) == ("completed", "handoff_unconfigured")
    assert transcript.dialled is None


async def test_dnc_request_ends_call_and_blocks_number(live_app: Any) -> None:
    async with live_app(_directory("Take me off your list.")) as live:
        call = await live.run_call(CALLEE)
        again = await live.http.post("/call/start", json={"phone": CALLEE})
    assert (call["state"], call["end_reason"]) == ("END", "caller_dnc")
    assert caller_intents(call) == ["do_not_call"]
    assert again.status_code == 409
    assert "do-not-call" in again.json()["detail"]


async def test_silence_ends_the_call_after_the_timeout(live_app: Any, transport: str) -> None:
    async with live_app(_directory(None, None, "too late"), **silence(transport)) as live:
        call = await live.run_call(CALLEE)
        transcript = live.carrier.transcript(call["twilio_sid"])
    assert call["end_reason"] == "silence_timeout"
    silences = [e for e in transcript.events if e.kind is EventKind.SILENCE]
    assert len(silences) == 2  # 2 x 4 s Gather timeouts = 8 s of silence
    assert not [m for m in call["messages"] if m["role"] == "caller"]


async def test_silence_that_is_broken_resets_the_count(live_app: Any, transport: str) -> None:
    directory = _directory(None, "Sure.", None, "We use QuickBooks.", None, "About twenty people.")
    async with live_app(directory, **silence(transport)) as live:
        call = await live.run_call(CALLEE)
    assert call["end_reason"] != "silence_timeout"
    reached = [t["to_state"] for t in call["transitions"]]
    assert reached[-2:] == ["PITCH", "END"]  # reached, then the callee hung up
    assert (call["state"], call["end_reason"]) == ("END", "caller_hung_up")


async def test_not_interested_in_qualify_ends_politely(live_app: Any) -> None:
    async with live_app(_directory("Sure.", "Actually I'm not interested.")) as live:
        call = await live.run_call(CALLEE)
    assert (call["state"], call["end_reason"], call["outcome"]) == (
        "END",
        "not_interested",
        None,
    )
    assert path(call) == ["INIT", "INTRO", "QUALIFY", "END"]


@pytest.mark.parametrize(
    ("persona", "status"), [("+14155550109", "busy"), ("+14155550110", "no_answer")]
)
async def test_unanswered_calls_take_their_status_from_the_callback(
    live_app: Any, persona: str, status: str
) -> None:
    async with live_app() as live:
        call = await live.run_call(persona)
    assert call["status"] == status
    assert call["messages"] == []


async def test_hello_after_the_greeting_is_not_an_answer(live_app: Any) -> None:
    async with live_app(_directory("Hello?", "Who is this?", "Oh okay, sure.")) as live:
        call = await live.run_call(CALLEE)
    assert caller_intents(call)[:2] == ["unclear", "unclear"]
    states = [m["state"] for m in call["messages"] if m["role"] == "agent"]
    assert states[:3] == ["INTRO", "INTRO", "INTRO"]
    assert states[3] == "QUALIFY"


async def test_every_bundled_persona_ends_as_it_expects(live_app: Any) -> None:
    directory = CalleeDirectory.bundled()
    async with live_app(directory) as live:
        for persona in directory.personas:
            call = await live.run_call(persona.number)
            expected = persona.expectation(handoff_configured=False)
            got = (call["status"], call["end_reason"], call["outcome"])
            assert got == (expected.status, expected.end_reason, expected.outcome), persona.name
