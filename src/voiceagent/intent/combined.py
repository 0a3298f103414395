"""The local classifier and the optional model, combined by the SPEC's precedence.

The local label is always there, in microseconds. The model may refine the funnel intents and
add a safety label, never remove one; late or failing, the local label stands. A local
do-not-call is final: the model is not even asked. The act is always the local model's.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any, Protocol

from voiceagent.errors import LanguageError
from voiceagent.funnel.states import SAFETY_INTENTS, Intent, State
from voiceagent.intent.precedence import highest
from voiceagent.intent.types import Classification, Classifier


class IntentModel(Protocol):
    async def classify(self, text: str, *, state: State, agent_line: str) -> Intent: ...


async def classify(
    speech: str,
    *,
    local: Classifier,
    model: IntentModel | None,
    state: State,
    agent_line: str,
    timeout: float,
    log: Any,
) -> Classification:
    heard = local.classify(speech)
    if model is None or heard.intent is Intent.DO_NOT_CALL:
        return heard
    try:
        async with asyncio.timeout(timeout):
            intent = Intent(await model.classify(speech, state=state, agent_line=agent_line))
    except (TimeoutError, LanguageError, ValueError) as exc:
        log.info("intent_model_skipped", error=repr(exc))
        return heard
    if heard.intent in SAFETY_INTENTS or intent in SAFETY_INTENTS:
        safest = highest(i for i in (heard.intent, intent) if i in SAFETY_INTENTS)
        if safest is None or safest is heard.intent:
            return heard
        return replace(heard, intent=safest, reason="llm", scores={})
    return replace(heard, intent=intent, reason="llm", scores={})
