"""The ConversationRelay transport: Twilio hears and speaks, the service streams the words.

A call's first webhook is answered with `<Connect><ConversationRelay>`: the opening line is the
welcome greeting. Then one WebSocket carries the call: each prompt is a caller turn through the
same core as the Gather loop (read, decide, store the decision, write the line, store it), and
the line goes out token by token as the model writes it (the script's fixed lines as one
message). ConversationRelay says nothing while the caller is quiet, so the session keeps its
own silence timer. An ending line is followed by `end`; Twilio then fetches the `<Connect
action>`, which transfers or hangs up.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from sqlalchemy.exc import IntegrityError

from voiceagent.calls import records
from voiceagent.calls.context import Context
from voiceagent.calls.turn import replay
from voiceagent.calls.turn.decide import Decider, closing_request
from voiceagent.calls.turn.job import Ask, ms_since
from voiceagent.calls.turn.relay_session import Send, Session
from voiceagent.funnel import Cause
from voiceagent.providers.base import SessionEnd, StreamEvent
from voiceagent.providers.twilio import relay as wire
from voiceagent.providers.twilio import twiml

__all__ = ["RelayTurns", "Send"]


class RelayTurns:
    def __init__(self, ctx: Context, decider: Decider) -> None:
        self.ctx = ctx
        self.decider = decider
        self._sessions: set[asyncio.Task[None]] = set()

    async def opening(self, ask: Ask) -> str:
        """The first webhook: the call's opening, decided and stored, as ConversationRelay's
        welcome greeting; the TwiML is the turn's stored answer, so a retry gets the same."""
        log = self.ctx.log.bind(call_id=ask.call_id, call_sid=ask.sid, turn=ask.number)
        read = await self.decider.admit(ask, log)
        if read is None:
            return twiml.hang_up()
        log = log.bind(call_id=read.call.id)
        if read.stored is not None:
            return await self._stored(read.call.id, read.number)
        job = await self.decider.decide(read, ask, audio_id="", log=log)
        welcome = self.ctx.fallback.compose(job.request)  # the opening with its disclosures
        settings = self.ctx.settings
        answer = twiml.connect_relay(
            twiml.Relay(
                url=self.ctx.relay_url(),
                action=self.ctx.relay_action_url(job.call_id),
                welcome=welcome,
                language=settings.relay_language,
                tts_provider=settings.relay_tts_provider,
                voice=settings.relay_voice_name,
                transcription_provider=settings.relay_transcription_provider,
                hints=self.ctx.hints,
                parameters={"call_id": job.call_id},
            )
        )
        try:
            await job.stored()
        except IntegrityError:
            return await self._stored(read.call.id, read.number)
        latency = ms_since(job.started)
        stored = await records.record_answer(
            self.ctx.sessions,
            call_id=job.call_id,
            number=job.number,
            twiml=answer,
            text=welcome,
            state=job.decision.state.value,
            audio_id=None,
            latency_ms=latency,
            stages={**job.stages, "webhook": latency},
        )
        if not stored:
            return await self._stored(read.call.id, read.number)
        return answer

    async def _stored(self, call_id: str, number: int) -> str:
        answer = await records.stored_answer(self.ctx.sessions, call_id, number)
        if answer is None:
            answer = await replay.watch(self.ctx, call_id, number)
        return answer or twiml.hang_up()

    async def converse(self, events: AsyncIterator[StreamEvent], send: Send) -> None:
        """Run one session until Twilio closes it (or we end it and it is closed)."""
        session = Session(self.ctx, self.decider, events, send)
        task = asyncio.current_task()
        if task is not None:
            self._sessions.add(task)
        try:
            await session.run()
        finally:
            if task is not None:
                self._sessions.discard(task)

    async def ended(self, *, call_id: str | None, end: SessionEnd) -> str:
        """The `<Connect action>`: what happens once the session is over."""
        log = self.ctx.log.bind(call_id=call_id, call_sid=end.sid, session_status=end.status)
        log.info("relay_session_ended")
        if end.status == "completed":  # the caller hung up mid-session
            await self.decider.stop(Cause.CALLER_HUNG_UP, call_id=call_id, sid=end.sid, log=log)
            return twiml.hang_up()
        if end.status == "failed":
            log.error("relay_session_failed", error=end.error)
            stopped = await self.decider.stop(
                Cause.CARRIER_FAILED, call_id=call_id, sid=end.sid, error=end.error, log=log
            )
            if stopped is None:
                return twiml.hang_up()
            goodbye = self.ctx.fallback.compose(
                closing_request(call_id, stopped.lines, stopped.end_reason)
            )
            return twiml.hang_up(twiml.Spoken(goodbye))
        handoff = wire.handoff_of(end.handoff)
        number = self.ctx.settings.handoff_number
        if handoff.get("transfer") and number and call_id:
            return twiml.dial(number, action=self.ctx.dial_url(call_id))
        return twiml.hang_up()

    async def aclose(self) -> None:
        for task in list(self._sessions):
            task.cancel()
        if self._sessions:
            await asyncio.wait(self._sessions, timeout=5)
