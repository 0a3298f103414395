"""OpenAIIntentModel through the real openai SDK against the wire-protocol emulator on loopback."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from voiceagent.emulators.openai import OpenAIEmulator
from voiceagent.errors import LanguageError
from voiceagent.funnel.states import Intent, State
from voiceagent.providers.openai.intent import OpenAIIntentModel
from voiceagent.web.server import serve_in_background

AGENT_LINE = "Would you be open to a free demo?"


@dataclass
class Emulated:
    emulator: OpenAIEmulator
    model: OpenAIIntentModel

    @property
    def calls(self) -> int:
        return len(self.emulator.chat_requests)


@pytest.fixture
async def intents() -> AsyncIterator[Emulated]:
    emulator = OpenAIEmulator()
    async with serve_in_background(lambda base_url: emulator.app) as server:
        model = OpenAIIntentModel(
            api_key=emulator.api_key,
            model="gpt-4o-mini",
            base_url=f"{server.base_url}/v1",
            timeout_seconds=0.8,
        )
        yield Emulated(emulator, model)


async def classify(emulated: Emulated, text: str = "sure, sounds good") -> Intent:
    return await emulated.model.classify(text, state=State.CLOSE, agent_line=AGENT_LINE)


@pytest.mark.parametrize("label", ["interested", "not_interested", "unclear"])
async def test_structured_output_gives_the_funnel_intent(intents: Emulated, label: str) -> None:
    intents.emulator.behaviour.intent = label
    assert await classify(intents) == Intent(label)
    body = intents.emulator.chat_requests[0].body
    response_format = body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["strict"] is True
    schema = response_format["json_schema"]["schema"]
    assert schema["properties"]["intent"]["enum"] == [i.value for i in Intent]
    assert "stream" not in body or body["stream"] is False


async def test_prompt_carries_the_utterance_and_the_agent_line(intents: Emulated) -> None:
    await classify(intents, "we already use Gusto")
    prompt = intents.emulator.chat_requests[0].prompt
    assert "we already use Gusto" in prompt
    assert AGENT_LINE in prompt
    assert "CLOSE" in prompt


async def test_json_mode_fallback_is_used_and_remembered(intents: Emulated) -> None:
    intents.emulator.behaviour.reject_json_schema = True
    intents.emulator.behaviour.intent = "not_interested"
    assert await classify(intents) == Intent.NOT_INTERESTED
    kinds = [r.body["response_format"]["type"] for r in intents.emulator.chat_requests]
    assert kinds == ["json_schema", "json_object"]
    assert await classify(intents) == Intent.NOT_INTERESTED
    kinds = [r.body["response_format"]["type"] for r in intents.emulator.chat_requests]
    assert kinds == ["json_schema", "json_object", "json_object"]
    assert intents.model.mode == "json_object"


@pytest.mark.parametrize(
    ("json_reply", "intent"),
    [
        ("not json at all", "interested"),
        ('{"label": "interested"}', "interested"),
        ("[]", "interested"),
        (None, "maybe"),
        (None, "DNC"),
    ],
)
async def test_bad_json_or_unknown_label_is_a_language_error(
    intents: Emulated, json_reply: str | None, intent: str
) -> None:
    intents.emulator.behaviour.json_reply = json_reply
    intents.emulator.behaviour.intent = intent
    with pytest.raises(LanguageError):
        await classify(intents)


@pytest.mark.parametrize("status", [401, 429, 500])
async def test_vendor_errors_are_not_retried(intents: Emulated, status: int) -> None:
    intents.emulator.behaviour.fail_status = status
    with pytest.raises(LanguageError, match=str(status)):
        await classify(intents)
    assert intents.calls == 1
    assert intents.model.mode == "json_schema"


async def test_a_hung_server_times_out(intents: Emulated) -> None:
    intents.emulator.behaviour.hang = True
    started = time.perf_counter()
    with pytest.raises(LanguageError, match="within"):
        await classify(intents)
    assert time.perf_counter() - started < 2.0


async def test_a_malformed_body_is_a_language_error(intents: Emulated) -> None:
    intents.emulator.behaviour.malformed = True
    with pytest.raises(LanguageError):
        await classify(intents)
