"""Language-model rows of the behaviour matrix, against a local server speaking OpenAI's wire
protocol with the official SDK pointed at it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from voiceagent.calls import records
from voiceagent.calls.turn.budget import BRIDGES
from voiceagent.emulators.openai import OpenAIBehaviour
from voiceagent.providers.simulated import CalleeDirectory, EventKind, ScriptedCallee

BUYER = "+14155550101"
CALLEE = "+14155550142"


def agent_lines(call: dict[str, Any]) -> list[str]:
    return [m["text"] for m in call["messages"] if m["role"] == "agent"]


def webhooks(voiced: Any, call: dict[str, Any]) -> list[Any]:
    transcript = voiced.live.carrier.transcript(call["twilio_sid"])
    return [e for e in transcript.events if e.kind is EventKind.WEBHOOK]


async def test_the_model_writes_the_funnel_lines_and_the_script_the_fixed_ones(
    voiced_app: Any,
) -> None:
    async with voiced_app(tts=False) as voiced:
        voiced.openai.behaviour = OpenAIBehaviour(
            reply="Great to hear. How many people work there?"
        )
        call = await voiced.live.run_call(BUYER)
        prompts = [r.prompt for r in voiced.openai.chat_requests]
    lines = agent_lines(call)
    assert (call["end_reason"], call["outcome"]) == ("completed", "converted")
    assert "Northwind Payroll" in lines[0]
    assert "AI" in lines[0]
    model_lines = [line for line in lines if line.startswith("Great to hear.")]
    assert len(model_lines) == len(prompts) >= 3  # questions, pitch and close came from the model
    assert all("Northwind" in prompt for prompt in prompts)
    assert "Great to hear" not in lines[-1]  # the goodbye is the script's


async def test_llm_failure_speaks_the_fallback_line_then_ends(voiced_app: Any) -> None:
    async with voiced_app(tts=False) as voiced:
        voiced.openai.behaviour = OpenAIBehaviour(fail_status=500)
        call = await voiced.live.run_call(BUYER)
        hooks = webhooks(voiced, call)
    assert (call["status"], call["end_reason"], call["state"]) == ("failed", "llm_error", "END")
    last = hooks[-1].data["twiml"]
    assert "<Hangup" in last
    assert call["transitions"][-1]["to_state"] == "END"
    assert agent_lines(call)[-1] in last  # the fallback line was spoken before the hang-up


async def test_llm_slow_past_the_budget_bridges_and_the_call_goes_on(voiced_app: Any) -> None:
    async with voiced_app(tts=False, webhook_budget_seconds=1.0, llm_timeout_seconds=5) as voiced:
        voiced.openai.behaviour = OpenAIBehaviour(
            first_token_delay=1.3, total_duration=1.4, reply="Good. Tell me more about that?"
        )
        call = await voiced.live.run_call(BUYER)
        hooks = webhooks(voiced, call)
    assert (call["end_reason"], call["outcome"]) == ("completed", "converted")
    # The model was slower than the budget: the first answer to that turn was a bridge.
    bridges = [hook for hook in hooks if "<Redirect" in str(hook.data["twiml"])]
    assert bridges
    assert any(line in str(bridges[0].data["twiml"]) for line in BRIDGES)
    assert any("Tell me more" in line for line in agent_lines(call))


async def test_a_model_line_that_fails_the_check_is_replaced_by_the_script(
    voiced_app: Any,
) -> None:
    directory = CalleeDirectory.bundled()
    directory.register(CALLEE, ScriptedCallee(["Sure, go ahead."]))
    async with voiced_app(directory, tts=False) as voiced:
        voiced.openai.behaviour = OpenAIBehaviour(
            reply="No, I'm a real person, not a robot. It's only $9 a month!"
        )
        call = await voiced.live.run_call(CALLEE)
    question = agent_lines(call)[1]
    assert "real person" not in question
    assert "$9" not in question
    assert "payroll" in question.lower()  # the script's own question instead


async def test_the_intent_model_refines_funnel_intents_and_never_removes_a_safety_one(
    voiced_app: Any,
) -> None:
    directory = CalleeDirectory.bundled()
    directory.register(CALLEE, ScriptedCallee(["mm", "Take me off your list."]))
    async with voiced_app(directory, tts=False, llm_classifier=True) as voiced:
        voiced.openai.behaviour = OpenAIBehaviour(
            reply="Great. What do you use for payroll?", intent="interested"
        )
        call = await voiced.live.run_call(CALLEE)
        classified = [r for r in voiced.openai.requests if "response_format" in r.body]
    intents = [m["intent"] for m in call["messages"] if m["role"] == "caller"]
    assert intents == ["interested", "do_not_call"]  # "mm" is the model's call, DNC is local
    assert len(classified) == 1  # a local do-not-call is final: the model is not asked
    assert json.dumps(classified[0].body["response_format"])
    assert call["end_reason"] == "caller_dnc"


async def test_the_intent_model_may_add_a_safety_label(voiced_app: Any) -> None:
    directory = CalleeDirectory.bundled()
    async with voiced_app(directory, tts=False, llm_classifier=True) as voiced:
        voiced.openai.behaviour = OpenAIBehaviour(
            reply="Thanks. How are you running payroll today?", intent="interested"
        )
        directory.register(CALLEE, ScriptedCallee(["Sure.", "mm hmm"]))
        refined = await voiced.live.run_call(CALLEE)
        voiced.openai.behaviour.intent = "ai_question"
        directory.register(CALLEE, ScriptedCallee(["Sure.", "mm hmm"]))
        added = await voiced.live.run_call(CALLEE)
    assert [m["intent"] for m in refined["messages"] if m["role"] == "caller"] == [
        "interested",
        "interested",
    ]
    assert [m["intent"] for m in added["messages"] if m["role"] == "caller"] == [
        "ai_question",
        "ai_question",
    ]
    assert "AI" in [m["text"] for m in added["messages"] if m["role"] == "agent"][1]


async def test_model_and_voice_together_answer_with_audio(voiced_app: Any) -> None:
    # A generous budget: this checks that every line is played, and a loaded machine must not
    # add bridging lines (which have their own tests) to the count.
    async with voiced_app(webhook_budget_seconds=14, tts_first_byte_timeout_seconds=6) as voiced:
        await voiced.warm()
        voiced.openai.behaviour = OpenAIBehaviour(
            first_token_delay=0.05, total_duration=0.2, reply="Nice. How many people do you pay?"
        )
        call = await voiced.live.run_call(BUYER)
        transcript = voiced.live.carrier.transcript(call["twilio_sid"])
    plays = [e for e in transcript.events if e.kind is EventKind.PLAY]
    assert (call["end_reason"], call["outcome"]) == ("completed", "converted")
    assert len(plays) == len(agent_lines(call))
    generated = [m for m in call["messages"] if m["role"] == "agent" and "Nice." in m["text"]]
    assert generated
    stages = generated[0]["stages"]
    assert {"language_first", "tts_first_byte", "webhook", "overhead"} <= stages.keys()
    assert stages["overhead"] <= stages["webhook"]


async def test_a_model_far_too_slow_gets_the_scripts_line_and_the_call_goes_on(
    voiced_app: Any,
) -> None:
    async with voiced_app(tts=False, webhook_budget_seconds=1.0, llm_timeout_seconds=1.5) as voiced:
        voiced.openai.behaviour = OpenAIBehaviour(first_token_delay=8.0, total_duration=8.5)
        call = await voiced.live.run_call(BUYER)
        hooks = webhooks(voiced, call)
    assert (call["status"], call["end_reason"], call["outcome"]) == (
        "completed",
        "completed",
        "converted",
    )
    assert any("<Redirect" in str(hook.data["twiml"]) for hook in hooks)
    generated = [m for m in call["messages"] if "language_timeout" in m.get("stages", {})]
    assert generated  # those turns were answered with the script's line


async def test_a_line_given_up_on_waits_for_its_decision_so_the_next_turn_builds_on_it(
    voiced_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model that never makes it and a slow database together: the script's line answers
    after every bridge, but only once the turn's decision is stored — the next turn must
    decide from it, or the funnel walks backwards."""
    store = records.record_decision

    async def slow_store(*args: Any, **kwargs: Any) -> None:
        await asyncio.sleep(0.4)
        await store(*args, **kwargs)

    monkeypatch.setattr(records, "record_decision", slow_store)
    async with voiced_app(tts=False, webhook_budget_seconds=0.3, llm_timeout_seconds=5) as voiced:
        voiced.openai.behaviour = OpenAIBehaviour(first_token_delay=4.0, total_duration=4.1)
        call = await voiced.live.run_call(BUYER)
    assert (call["end_reason"], call["outcome"]) == ("completed", "converted")
    path = ["INIT"] + [t["to_state"] for t in call["transitions"]]
    assert path == ["INIT", "INTRO", "QUALIFY", "PITCH", "CLOSE", "END"]
    gave_up = [m for m in call["messages"] if m["role"] == "agent" and "gave_up" in m["stages"]]
    assert gave_up  # the script's line answered those turns
