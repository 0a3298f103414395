"""The Gather loop's budget: every webhook answers inside WEBHOOK_BUDGET_SECONDS.

When the line is late, a short bridging line and a `<Redirect>` to the same turn keep the caller
company while it is finished; after MAX_BRIDGES of them the script's line answers instead.
"""

from __future__ import annotations

import asyncio
from typing import Any

from voiceagent.calls import records
from voiceagent.calls.audio import AudioStore, AudioStream, new_audio_id
from voiceagent.calls.context import Context
from voiceagent.calls.turn.job import ms_since
from voiceagent.funnel import Then
from voiceagent.providers.audio import ulaw_of
from voiceagent.providers.base import LineRequest
from voiceagent.providers.twilio import twiml

MAX_BRIDGES = 3  # bridging lines in a row before the turn is answered with the script's line
BRIDGES = ("One moment.", "Just a second.", "Bear with me one moment.")
SAFETY_MARGIN = 0.25  # seconds kept back from the budget for writing and sending the answer


class Budget:
    def __init__(self, ctx: Context, audio: AudioStore) -> None:
        self.ctx = ctx
        self.audio = audio
        self._writes: set[asyncio.Task[None]] = set()

    async def aclose(self) -> None:
        if self._writes:
            await asyncio.wait(self._writes, timeout=5)

    def remaining(self, started: float) -> float:
        spent = ms_since(started) / 1000
        return max(0.0, self.ctx.settings.webhook_budget_seconds - SAFETY_MARGIN - spent)

    def bridge(self, call_id: str, number: int, wait: int, started: float, log: Any) -> str:
        text = BRIDGES[(number + wait) % len(BRIDGES)]
        spoken = twiml.Spoken(text, self._cached_audio_url(text))
        redirect = f"{self.ctx.voice_url(call_id, number)}&wait={wait + 1}"
        self.ctx.metrics.budget_exceeded.inc()
        log.warning(
            "webhook_budget_exceeded",
            event_detail="bridging line while the turn's line is finished",
            turn=number,
            wait=wait,
            latency_ms=round(ms_since(started), 2),
            budget_ms=self.ctx.settings.webhook_budget_seconds * 1000,
        )
        return twiml.bridge(spoken, redirect=redirect)

    async def give_up(
        self,
        call_id: str,
        number: int,
        request: LineRequest,
        then: Then,
        log: Any,
        *,
        started: float,
    ) -> str:
        """The line is still not there after every bridge: answer with the script's line.

        What follows the line is the funnel's decision, as for any answer (a transfer dials).
        The answer is stored before it is returned when the budget allows; a database slower
        than that gets the write in the background (the webhook never waits past the budget).
        Should the model's line be stored first, that one stays on record.
        """
        text = self.ctx.fallback.compose(request)
        answer = render(self.ctx, call_id, number, twiml.Spoken(text), then)
        write = asyncio.create_task(self._store(call_id, number, request, answer, text, log))
        self._writes.add(write)
        write.add_done_callback(self._writes.discard)
        log.warning("turn_answered_from_script", turn=number)
        try:
            await asyncio.wait_for(asyncio.shield(write), self.remaining(started))
        except TimeoutError:
            log.warning("answer_stored_late", turn=number)
        return answer

    async def _store(
        self, call_id: str, number: int, request: LineRequest, answer: str, text: str, log: Any
    ) -> None:
        try:
            await records.record_answer(
                self.ctx.sessions,
                call_id=call_id,
                number=number,
                twiml=answer,
                text=text,
                state=request.state.value,
                audio_id=None,
                latency_ms=0.0,
                stages={"gave_up": 1.0},
            )
        except Exception as exc:  # logged with the call id; the caller already heard the line
            log.error("answer_not_stored", turn=number, error=repr(exc))

    def _cached_audio_url(self, text: str) -> str | None:
        cached = self.ctx.audio_cache.get(text) if self.ctx.audio_cache else None
        if cached is None:
            return None
        audio_id = new_audio_id()
        self.audio.open(audio_id, AudioStream([ulaw_of(cached)], done=True))
        return self.ctx.audio_url(audio_id)


def render(ctx: Context, call_id: str, number: int, spoken: twiml.Spoken, then: Then) -> str:
    """The TwiML for a turn's line and what follows it (listen, transfer, hang up)."""
    settings = ctx.settings
    if then is Then.LISTEN:
        return twiml.listen(
            spoken,
            action=ctx.voice_url(call_id, number + 1),
            timeout=settings.gather_timeout_seconds,
            hints=ctx.hints,
        )
    if then is Then.TRANSFER and settings.handoff_number:
        return twiml.transfer(spoken, number=settings.handoff_number, action=ctx.dial_url(call_id))
    return twiml.hang_up(spoken)
