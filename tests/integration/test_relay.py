"""What only the ConversationRelay transport has: the signed WebSocket upgrade, tokens streamed
as the model writes them, interruptions, the `<Connect action>` and per-turn latency. Every
behaviour-matrix row also runs on relay (`test_behaviour_matrix.py`, parametrised)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import pytest
import websockets
from tests.conftest import GUARD, OnHold, until
from tests.integration.conftest import on_transport
from websockets.exceptions import InvalidStatus

from voiceagent.calls.turn.budget import BRIDGES
from voiceagent.emulators.openai import OpenAIBehaviour
from voiceagent.providers.simulated import (
    HANG_UP,
    CalleeDirectory,
    EventKind,
    Over,
    Reply,
    ScriptedCallee,
)

BUYER = "+14155550101"
CALLEE = "+14155550142"


def _directory(*replies: str | Over | None) -> CalleeDirectory:
    directory = CalleeDirectory.bundled()
    directory.register(CALLEE, ScriptedCallee(list(replies)))
    return directory


def agent(call: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in call["messages"] if m["role"] == "agent"]


@pytest.fixture
def relay_app(live_app: Any) -> Any:
    return on_transport(live_app, "relay")


@pytest.fixture
def voiced_relay(voiced_app: Any) -> Any:
    return on_transport(voiced_app, "relay")


async def test_the_first_webhook_opens_a_session_with_the_opening_as_its_greeting(
    relay_app: Any,
) -> None:
    async with relay_app(_directory("Sure.", "We use Gusto.")) as live:
        call = await live.run_call(CALLEE)
        transcript = live.carrier.transcript(call["twilio_sid"])
    webhooks = [e for e in transcript.events if e.kind is EventKind.WEBHOOK]
    first = webhooks[0].data["twiml"]
    assert "<Connect" in first
    assert "<ConversationRelay" in first
    assert f'url="{live.base_url.replace("http://", "ws://")}/twilio/relay"' in first
    assert 'reportInputDuringAgentSpeech="speech"' in first
    assert f'<Parameter name="call_id" value="{call["call_id"]}"' in first
    greeting = next(e for e in transcript.events if e.kind is EventKind.SAY)
    assert greeting.data.get("welcome") is True
    assert agent(call)[0]["text"] == greeting.text  # stored as the opening line
    assert "AI" in greeting.text  # the compliance defaults


@pytest.mark.parametrize("signature", [None, "bm90IGEgc2lnbmF0dXJl"])
async def test_an_unsigned_or_missigned_upgrade_is_refused_before_anything_is_stored(
    relay_app: Any, signature: str | None
) -> None:
    async with relay_app() as live:
        before = (await live.http.get("/calls")).json()["total"]
        url = live.base_url.replace("http://", "ws://") + "/twilio/relay"
        headers = {"X-Twilio-Signature": signature} if signature else {}
        with pytest.raises(InvalidStatus) as refused:
            async with websockets.connect(url, additional_headers=headers, open_timeout=GUARD):
                pass
        after = (await live.http.get("/calls")).json()["total"]
    assert refused.value.response.status_code == 403
    assert before == after == 0


async def test_a_session_for_a_call_we_never_placed_is_ended(relay_app: Any) -> None:
    async with relay_app() as live:
        url = live.base_url.replace("http://", "ws://") + "/twilio/relay"
        headers = {"X-Twilio-Signature": live.sign(url, {})}
        async with websockets.connect(url, additional_headers=headers, open_timeout=GUARD) as ws:
            setup = {"type": "setup", "callSid": "CA" + "0" * 32, "sessionId": "VX1"}
            await ws.send(json.dumps({**setup, "customParameters": {"call_id": "nope"}}))
            message = json.loads(await ws.recv())
    assert message["type"] == "end"
    assert json.loads(message["handoffData"])["reason"] == "unknown_call"


async def test_the_models_tokens_go_out_as_they_are_written(voiced_relay: Any) -> None:
    reply = "Great, thanks for that. How many people do you pay each month?"
    async with voiced_relay(
        _directory("Sure.", "We use Gusto.", "About forty."), tts=False
    ) as voiced:
        voiced.openai.behaviour = OpenAIBehaviour(reply=reply, first_token_delay=0.05)
        call = await voiced.live.run_call(CALLEE)
        transcript = voiced.live.carrier.transcript(call["twilio_sid"])
    lines = [e for e in transcript.events if e.kind is EventKind.SAY and e.data.get("tokens")]
    streamed = [e for e in lines if e.text == reply]
    assert streamed, [e.text for e in lines]
    assert all(e.data["tokens"] > 3 for e in streamed)  # many tokens, joined exactly
    stored = [m for m in agent(call) if m["text"] == reply]
    assert stored
    for message in stored:
        stages = message["stages"]
        assert message["latency_ms"] == stages["relay_first_token"]
        assert stages["relay_first_token"] <= stages["relay_last_token"]


async def test_a_model_late_past_the_budget_is_bridged_and_the_call_goes_on(
    voiced_relay: Any,
) -> None:
    reply = "Good. Tell me more about that?"
    directory = _directory("Sure.", "We use Gusto.")
    async with voiced_relay(
        directory, tts=False, webhook_budget_seconds=0.5, llm_timeout_seconds=5
    ) as voiced:
        voiced.openai.behaviour = OpenAIBehaviour(
            first_token_delay=0.9, total_duration=1.0, reply=reply
        )
        call = await voiced.live.run_call(CALLEE)
        metrics = (await voiced.live.http.get("/metrics")).text
    bridged = [m for m in agent(call) if "bridged" in m["stages"]]
    assert bridged
    assert all(m["text"].startswith(BRIDGES) and m["text"].endswith(reply) for m in bridged)
    assert re.search(r"voiceagent_webhook_budget_exceeded_total [1-9]", metrics)
    assert call["end_reason"] == "caller_hung_up"  # the callee ran out of words: the call went on


async def test_a_line_the_caller_speaks_over_is_stored_as_heard(relay_app: Any) -> None:
    directory = _directory("Yeah, go on.", Over("Sorry, who did you say you were?"), "Okay.")
    async with relay_app(directory) as live:
        call = await live.run_call(CALLEE)
        transcript = live.carrier.transcript(call["twilio_sid"])
    cut = next(e for e in transcript.events if e.kind is EventKind.INTERRUPT)
    interrupted = [m for m in agent(call) if m["interrupted"]]
    assert len(interrupted) == 1
    heard = next(e for e in transcript.events if e.data.get("interrupted"))
    assert interrupted[0]["text"] == heard.data["heard"].strip()
    assert cut is not None
    callers = [m["text"] for m in call["messages"] if m["role"] == "caller"]
    assert "Sorry, who did you say you were?" in callers  # heard, and answered
    assert [m["seq"] for m in call["messages"]] == sorted(m["seq"] for m in call["messages"])


async def test_stop_said_over_the_agent_is_honoured_on_the_same_call(relay_app: Any) -> None:
    directory = _directory(Over("Stop calling me."))
    async with relay_app(directory) as live:
        call = await live.run_call(CALLEE)
        again = await live.http.post("/call/start", json={"phone": CALLEE})
    assert (call["state"], call["end_reason"]) == ("END", "caller_dnc")
    assert again.status_code == 409


async def test_the_model_failing_ends_with_the_scripts_goodbye(voiced_relay: Any) -> None:
    async with voiced_relay(_directory("Sure.", "We use Gusto."), tts=False) as voiced:
        voiced.openai.behaviour = OpenAIBehaviour(fail_status=500)
        call = await voiced.live.run_call(CALLEE)
        transcript = voiced.live.carrier.transcript(call["twilio_sid"])
    assert (call["status"], call["end_reason"], call["state"]) == ("failed", "llm_error", "END")
    sessions = [e for e in transcript.events if e.kind is EventKind.SESSION]
    assert sessions[-1].text == "ended"  # the service sent `end` after the goodbye
    said = [e.text for e in transcript.events if e.kind is EventKind.SAY]
    assert said[-1] == agent(call)[-1]["text"]  # the script's goodbye, heard and stored


class _HangsUpAfter:
    """Answers once, then puts the phone down mid-session."""

    answers = "answer"

    def __init__(self) -> None:
        self.turns = 0

    async def reply(self, heard: Sequence[str]) -> Reply:
        self.turns += 1
        return "Sure, go ahead." if self.turns == 1 else HANG_UP


async def test_a_caller_hanging_up_mid_session_ends_the_call_there(relay_app: Any) -> None:
    directory = CalleeDirectory.bundled()
    directory.register(CALLEE, _HangsUpAfter())
    async with relay_app(directory) as live:
        call = await live.run_call(CALLEE)
    assert (call["state"], call["end_reason"], call["status"]) == (
        "END",
        "caller_hung_up",
        "completed",
    )
    assert [t["to_state"] for t in call["transitions"]][-2:] == ["QUALIFY", "END"]


async def test_a_failed_session_ends_the_call_as_a_telephony_error(relay_app: Any) -> None:
    callee = OnHold()
    directory = CalleeDirectory.bundled()
    directory.register(CALLEE, callee)
    async with relay_app(directory) as live:
        started = (await live.http.post("/call/start", json={"phone": CALLEE})).json()
        await until(callee.listening.is_set, what="the session to be live")
        failed = await live.post_twilio(
            f"/twilio/relay/action?call_id={started['call_id']}",
            {
                "CallSid": started["twilio_sid"],
                "SessionStatus": "failed",
                "ErrorCode": "64105",
                "ErrorMessage": "WebSocket ended",
                "CallStatus": "in-progress",
            },
        )
        unsigned = await live.post_twilio(
            f"/twilio/relay/action?call_id={started['call_id']}",
            {"SessionStatus": "completed"},
            sign=False,
        )
        callee.release.set()
        await live.carrier.wait_for(started["twilio_sid"], timeout=GUARD)
        stored = (await live.http.get(f"/calls/{started['call_id']}")).json()
    assert failed.status_code == 200
    assert "<Say>" in failed.text
    assert "<Hangup" in failed.text
    assert unsigned.status_code == 403
    assert (stored["state"], stored["end_reason"]) == ("END", "telephony_error")
    assert "64105" in stored["error"]


async def test_relay_latency_is_exported_on_metrics(relay_app: Any) -> None:
    async with relay_app(_directory("Sure.", "We use Gusto.")) as live:
        await live.run_call(CALLEE)
        metrics = (await live.http.get("/metrics")).text
    assert re.search(r'voiceagent_stage_ms_count\{stage="relay_first_token"\} [1-9]', metrics)
    assert re.search(r'voiceagent_stage_ms_count\{stage="relay_last_token"\} [1-9]', metrics)
