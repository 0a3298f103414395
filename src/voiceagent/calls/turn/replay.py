"""A turn that was stored already: Twilio retried the webhook, or followed a bridge's `<Redirect>`,
or another instance is answering it. The stored answer is replayed, never decided twice."""

from __future__ import annotations

import asyncio
import time

from voiceagent.calls import records
from voiceagent.calls.context import Context

POLL_SECONDS = 0.05


def patience(ctx: Context) -> float:
    """As long as a line can take: past this, whoever decided the turn is not answering it."""
    settings = ctx.settings
    return settings.llm_timeout_seconds + settings.tts_first_byte_timeout_seconds + 1.0


async def watch(ctx: Context, call_id: str, number: int) -> str | None:
    """Wait for a turn pending on another instance (or on one that died mid-turn) to be
    answered; None when it is not within `patience`."""
    deadline = time.perf_counter() + patience(ctx)
    while time.perf_counter() < deadline:
        answer = await records.stored_answer(ctx.sessions, call_id, number)
        if answer is not None:
            return answer
        await asyncio.sleep(POLL_SECONDS)
    return None
