"""One ConversationRelay session: the WebSocket's events in order, one line streaming at a time.

Only the session's loop stores lines: an interruption cancels the line being streamed, never a
write. The silence timer is the session's own (ConversationRelay says nothing while the caller
is quiet): the Gather timeout, counted from the end of the agent's speech.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from voiceagent.calls import records
from voiceagent.calls.context import Context
from voiceagent.calls.turn import line
from voiceagent.calls.turn.budget import BRIDGES
from voiceagent.calls.turn.decide import Decider, closing_request
from voiceagent.calls.turn.job import Ask, TurnJob, ms_since
from voiceagent.funnel import Cause, Decision, Then
from voiceagent.providers.base import (
    Digit,
    Interrupted,
    Problem,
    Quiet,
    Said,
    SessionStart,
    Speaking,
    StreamEvent,
)
from voiceagent.providers.twilio import relay as wire

Send = Callable[[str], Awaitable[None]]

SPOKEN_CHARS_PER_SECOND = 15.0  # how long a line takes to say, when no speaker event tells us
MAX_MALFORMED = 10  # in a row, as Twilio counts them: then the session is over


@dataclass(frozen=True, slots=True)
class _Silence:
    generation: int


@dataclass(frozen=True, slots=True)
class _Prompt:
    """The caller's words, and when they arrived on the socket."""

    text: str
    at: float


@dataclass
class _Line:
    """The line being streamed (or last streamed) on a session."""

    job: TurnJob
    sent: list[str] = field(default_factory=list)
    first_ms: float | None = None
    stored: bool = False
    interrupted: str | None = None  # what the caller heard of it, when they spoke over it
    failed: str = ""  # the model failed before the line's first words


@dataclass(frozen=True, slots=True)
class _Streamed:
    """The speaking task is done with `line`: the session stores it and goes on."""

    line: _Line


_Item = StreamEvent | _Prompt | _Silence | _Streamed


class Session:
    """One ConversationRelay WebSocket: events in order, one line streaming at a time."""

    def __init__(
        self, ctx: Context, decider: Decider, events: AsyncIterator[StreamEvent], send: Send
    ) -> None:
        self.ctx = ctx
        self.decider = decider
        self.events = events
        self.send = send
        self.log: Any = self.ctx.log
        self.call_id = ""
        self.sid = ""
        self.inbox: asyncio.Queue[_Item | None] = asyncio.Queue()
        self.generation = 0  # silence timers armed so far: a stale one is ignored
        self.timer: asyncio.TimerHandle | None = None
        self.line: _Line | None = None
        self.speaking: asyncio.Task[None] | None = None
        self.over = False  # `end` was sent: nothing more is said
        self.malformed = 0

    async def run(self) -> None:
        reader = asyncio.create_task(self._read())
        try:
            if not await self._start():
                return
            while (item := await self.inbox.get()) is not None:
                await self._handle(item)
        finally:
            self._disarm()
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
            await self._stop_speaking()
            await self._store_line(self.line)

    async def _read(self) -> None:
        try:
            async for event in self.events:
                if isinstance(event, Said):
                    # The turn's clock starts when its words arrive, not when the loop gets to it.
                    await self.inbox.put(_Prompt(event.text, time.perf_counter()))
                else:
                    await self.inbox.put(event)
        finally:
            await self.inbox.put(None)

    async def _start(self) -> bool:
        first = await self.inbox.get()
        if not isinstance(first, SessionStart):
            self.log.warning("relay_without_setup", got=type(first).__name__)
            return False
        self.call_id, self.sid = first.call_id, first.sid
        self.log = self.ctx.log.bind(call_id=first.call_id, call_sid=first.sid)
        read = await self.decider.read(Ask(first.call_id or None, first.sid, None, Quiet(0), 0.0))
        if read is None:
            self.log.warning("relay_for_unknown_call")
            await self._end({"reason": "unknown_call"})
            return False
        if read.ended:
            self.log.warning("relay_after_end")
            await self._end({"reason": "ended"})
            return False
        self.call_id = read.call.id
        self.log.info("relay_session_started", session_id=first.session_id)
        # The welcome greeting is being spoken: the caller's silence is counted from its end.
        opening = next((m.text for m in reversed(read.history) if m.role == "agent"), "")
        self._arm(self._speaking_seconds(opening))
        return True

    async def _handle(self, item: _Item) -> None:
        if self.over:
            return
        match item:
            case _Streamed(line=current):
                await self._streamed(current)
            case _Prompt(text=text, at=at) if text:
                self.malformed = 0
                await self._turn(Said(text), at)
            case _Silence(generation=generation) if generation == self.generation:
                await self._turn(Quiet(float(self.ctx.settings.gather_timeout_seconds)))
            case Interrupted(heard=heard):
                await self._interrupted(heard)
            case Speaking(who="agent", on=False):
                if self.speaking is None or self.speaking.done():
                    self._arm(0.0)
            case Speaking(who="caller", on=True):
                self._disarm()
            case Digit(digit=digit):
                self.log.info("relay_dtmf", digit=digit)
            case Problem(description=description, malformed=True):
                self.malformed += 1
                self.log.warning("relay_message_dropped", problem=description)
                if self.malformed >= MAX_MALFORMED:
                    await self.inbox.put(None)
            case Problem(description=description):
                self.log.error("relay_error", error=description)

    async def _turn(self, said: Said | Quiet, started: float | None = None) -> None:
        """One caller turn: the line in flight stops, the core decides, the next line streams."""
        self._disarm()
        if await self._stop_speaking() and self.line is not None:
            # A prompt over a line: it ends where it was. Over a goodbye, the call still ends.
            if self.line.job.decision.then is not Then.LISTEN:
                await self._streamed(self.line)
                return
            await self._store_line(self.line)
        ask = Ask(self.call_id, self.sid, None, said, started or time.perf_counter())
        read = await self.decider.read(ask)
        if read is None or read.ended:
            return
        if read.stored is not None:  # cannot happen on one socket; never decide a turn twice
            self.log.warning("relay_turn_already_stored", turn=read.number)
            return
        job = await self.decider.decide(read, ask, audio_id="", log=self.log)
        self.line = _Line(job)
        self.speaking = asyncio.create_task(self._speak(self.line))

    async def _speak(self, current: _Line) -> None:
        """Stream the line; the session, told when it is done, stores it and goes on.

        Only the session loop stores lines: an interruption cancels this task mid-stream,
        never mid-write."""
        job = current.job
        try:
            if self._fixed(job):
                await job.stored()
                await self._say(current, self.ctx.fallback.compose(job.request), last=True)
            else:
                await self._stream(current)
        except line.LineFailed as exc:
            current.failed = str(exc)
        await self.inbox.put(_Streamed(current))

    async def _streamed(self, current: _Line) -> None:
        if current is not self.line:  # a newer turn took over: this one is only stored
            await self._store_line(current)
            return
        if current.failed:
            await self._language_failed(current, current.failed)
            return
        await self._store_line(current)
        if current.job.decision.then is Then.LISTEN:
            # Interrupted, the caller is speaking now: their prompt normally follows at once.
            said = "" if current.interrupted is not None else "".join(current.sent)
            self._arm(self._speaking_seconds(said))
        else:
            await self._end(self._handoff(current.job.decision))

    async def _stream(self, current: _Line) -> None:
        """Send the line's pieces as they come. The model is read on its own task, so a slow
        write of the decision (which the first piece waits for) never stalls the model's stream."""
        pieces: asyncio.Queue[str | Exception | None] = asyncio.Queue()
        reader = asyncio.create_task(self._read_pieces(current.job, pieces))
        try:
            budget = self.ctx.settings.webhook_budget_seconds
            remaining = budget - ms_since(current.job.started) / 1000
            try:
                piece = await asyncio.wait_for(pieces.get(), max(0.0, remaining))
            except TimeoutError:
                await self._bridge(current)
                piece = await pieces.get()
            await current.job.stored()
            while piece is not None:
                if isinstance(piece, Exception):
                    raise piece
                await self._say(current, piece, last=False)
                piece = await pieces.get()
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
        await self._say(current, "", last=True)

    async def _read_pieces(
        self, job: TurnJob, pieces: asyncio.Queue[str | Exception | None]
    ) -> None:
        stream = line.pieces(self.ctx, job)
        try:
            async for piece in stream:
                pieces.put_nowait(piece)
            pieces.put_nowait(None)
        except Exception as exc:  # LineFailed above all: the sender raises it in its place
            pieces.put_nowait(exc)
        finally:
            await stream.aclose()

    async def _bridge(self, current: _Line) -> None:
        """No dead air: the model is late, so a short line goes first (as on the Gather loop)."""
        job = current.job
        text = BRIDGES[job.number % len(BRIDGES)]
        self.ctx.metrics.budget_exceeded.inc()
        self.log.warning(
            "webhook_budget_exceeded",
            event_detail="bridging line while the model writes the line",
            turn=job.number,
            latency_ms=round(ms_since(job.started), 2),
            budget_ms=self.ctx.settings.webhook_budget_seconds * 1000,
        )
        job.stages["bridged"] = ms_since(job.started)
        await job.stored()
        await self._say(current, text + " ", last=False)

    async def _say(self, current: _Line, token: str, *, last: bool) -> None:
        if current.first_ms is None:
            current.first_ms = ms_since(current.job.started)
        await self.send(wire.text(token, last=last))
        if token:
            current.sent.append(token)
        if last:
            current.job.stages["relay_last_token"] = ms_since(current.job.started)

    def _fixed(self, job: TurnJob) -> bool:
        language: Any = self.ctx.language
        speaks_fixed = getattr(language, "speaks_fixed", None)
        return bool(speaks_fixed(job.request)) if speaks_fixed is not None else False

    async def _language_failed(self, current: _Line, error: str) -> None:
        job = current.job
        self.log.error("llm_error", turn=job.number, error=error)
        await job.stored()
        stopped = await self.decider.stop(
            Cause.LANGUAGE_FAILED, call_id=job.call_id, error=error, log=self.log
        )
        decision = stopped or job.decision
        request = closing_request(
            job.call_id, decision.lines, decision.end_reason, job.request.lead
        )
        await self._say(current, self.ctx.fallback.compose(request), last=True)
        await self._store_line(current)
        await self._end({"reason": "llm_error"})

    async def _interrupted(self, heard: str) -> None:
        current = self.line
        if current is None:
            return
        cut = await self._stop_speaking()
        current.interrupted = heard
        self.log.info("relay_interrupted", turn=current.job.number, heard_chars=len(heard))
        if current.stored:
            await records.interrupt_line(self.ctx.sessions, call_id=self.call_id, heard=heard)
        elif cut:
            await self._streamed(current)  # what it would have been told, had it finished

    async def _stop_speaking(self) -> bool:
        """Cancel the line being streamed; True when one was."""
        if self.speaking is None or self.speaking.done():
            return False
        self.speaking.cancel()
        await asyncio.gather(self.speaking, return_exceptions=True)
        return True

    async def _store_line(self, current: _Line | None) -> None:
        """Store the line once: what was sent (or, interrupted, what the caller heard)."""
        if current is None or current.stored or current.first_ms is None:
            return
        job = current.job
        current.stored = True
        job.stages["relay_first_token"] = current.first_ms
        for stage in ("relay_first_token", "relay_last_token"):
            if stage in job.stages:
                self.ctx.metrics.stage_ms.labels(stage=stage).observe(job.stages[stage])
        text = "".join(current.sent).strip()
        if current.interrupted is not None and current.interrupted.strip():
            text = current.interrupted.strip()
        try:
            await job.stored()
            await records.record_answer(
                self.ctx.sessions,
                call_id=job.call_id,
                number=job.number,
                twiml="",
                text=text,
                state=job.decision.state.value,
                audio_id=None,
                latency_ms=current.first_ms,
                stages=job.stages,
                interrupted=current.interrupted is not None,
            )
        except Exception as exc:  # the line was said: a failed write is logged, never raised
            self.log.error("relay_line_not_stored", turn=job.number, error=repr(exc))
            return
        self.log.info(
            "turn",
            turn=job.number,
            state=job.decision.state.value,
            intent=job.intent,
            latency_ms=round(current.first_ms, 3),
            transport="relay",
        )

    def _handoff(self, decision: Decision) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "end_reason": decision.end_reason.value if decision.end_reason else None,
            "transfer": decision.then is Then.TRANSFER,
        }

    async def _end(self, handoff: dict[str, Any]) -> None:
        self.over = True
        self._disarm()
        await self.send(wire.end(handoff))

    def _arm(self, speaking: float) -> None:
        """Start the silence timer: the line's speaking time, then the Gather timeout."""
        self._disarm()
        self.generation += 1
        delay = speaking + float(self.ctx.settings.gather_timeout_seconds)
        self.timer = asyncio.get_running_loop().call_later(
            delay, self.inbox.put_nowait, _Silence(self.generation)
        )

    def _disarm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.generation += 1

    @staticmethod
    def _speaking_seconds(text: str) -> float:
        return len(text) / SPOKEN_CHARS_PER_SECOND
