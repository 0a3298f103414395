"""The optional model-backed classifier for the funnel intents, through structured output.

Only interested / not_interested / unclear come from here. Do-not-call, a request for a person and
"are you an AI?" are decided by the local classifier, which always runs first: a safety signal
must never wait on, or be lost to, a remote model.

Structured output (`json_schema`, strict) is asked for first. Compatible servers that refuse it
(some Ollama, vLLM and llama.cpp builds answer 400) get JSON mode plus our own validation from
then on: the choice is remembered, so a turn pays for the refusal once per process, not per call.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Literal

import openai
from openai import AsyncOpenAI

from voiceagent.errors import LanguageError
from voiceagent.funnel.states import Intent, State
from voiceagent.intent.prompt import MODEL_INTENTS, intent_prompt
from voiceagent.providers.openai.errors import translate

DEFAULT_BASE_URL = "https://api.openai.com/v1"

INTENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"intent": {"type": "string", "enum": [i.value for i in MODEL_INTENTS]}},
    "required": ["intent"],
    "additionalProperties": False,
}
Mode = Literal["json_schema", "json_object"]


class OpenAIIntentModel:
    """`IntentModel` over the official SDK; every failure becomes a `LanguageError`."""

    def __init__(
        self,
        *,
        api_key: str,
        model: str,
        base_url: str | None = None,
        timeout_seconds: float = 1.0,
    ) -> None:
        self.model = model
        self.timeout_seconds = timeout_seconds
        self.mode: Mode = "json_schema"
        client = AsyncOpenAI(api_key=api_key, base_url=base_url or DEFAULT_BASE_URL)
        # The label is needed before the line can be written, inside the same webhook budget:
        # no retries, and a total deadline (`classify`) on top of the SDK's per-read timeout.
        self._client = client.with_options(timeout=timeout_seconds, max_retries=0)

    async def classify(self, text: str, *, state: State, agent_line: str) -> Intent:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout_seconds
        try:
            async with asyncio.timeout_at(deadline):
                try:
                    content = await self._ask(text, state, agent_line, self.mode)
                except openai.BadRequestError:
                    if self.mode != "json_schema":
                        raise
                    self.mode = "json_object"
                    content = await self._ask(text, state, agent_line, self.mode)
        except (openai.OpenAIError, TimeoutError, ValueError) as exc:
            raise translate(exc, what="intent model", seconds=self.timeout_seconds) from exc
        return _parse(content)

    async def _ask(self, text: str, state: State, agent_line: str, mode: Mode) -> str:
        prompt = intent_prompt(text, state=state, agent_line=agent_line)
        completion = await self._client.chat.completions.create(
            model=self.model,
            messages=[
                {"role": "system", "content": prompt.system},
                {"role": "user", "content": prompt.user},
            ],
            response_format=(
                {
                    "type": "json_schema",
                    "json_schema": {"name": "intent", "schema": INTENT_SCHEMA, "strict": True},
                }
                if mode == "json_schema"
                else {"type": "json_object"}
            ),
        )
        if not completion.choices:
            raise LanguageError("the intent model returned no choices")
        return completion.choices[0].message.content or ""


def _parse(content: str) -> Intent:
    # JSON mode promises JSON, not our schema; even strict servers are validated, cheaply.
    try:
        document = json.loads(content)
    except ValueError:
        raise LanguageError(f"the intent model did not answer JSON: {content[:80]!r}") from None
    label = document.get("intent") if isinstance(document, dict) else None
    for intent in MODEL_INTENTS:
        if label == intent.value:
            return intent
    raise LanguageError(f"the intent model answered an unknown label: {label!r}")
