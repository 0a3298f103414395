"""The Gather transport: one webhook per turn, answered with TwiML inside the budget.

The decision is stored (the turn row as `pending`) while the line is written, before anything
else of the turn, and the turn's TwiML is stored before it is returned: a retried webhook, or
Twilio's `<Redirect>` after a bridging line, finds the turn by its unique (call_id, number) and
gets the stored answer, or waits for it. With a voice configured, each checked sentence goes to
synthesis at once and the turn is answered with a `<Play>` of the line's audio as soon as its
first bytes exist; without one, or when synthesis fails before its first byte, with `<Say>`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Any

from sqlalchemy.exc import IntegrityError

from voiceagent.calls import records
from voiceagent.calls.audio import AudioStore, new_audio_id
from voiceagent.calls.context import Context
from voiceagent.calls.turn import line, replay
from voiceagent.calls.turn.budget import MAX_BRIDGES, Budget, render
from voiceagent.calls.turn.decide import Decider, request_from_plan
from voiceagent.calls.turn.job import Ask, TurnAlreadyAnswered, TurnJob, ms_since
from voiceagent.calls.turn.voice import Voice
from voiceagent.db.tables import TurnRow
from voiceagent.errors import LanguageError
from voiceagent.funnel import Cause, Decision, State, Then
from voiceagent.providers.twilio import twiml


class GatherTurns:
    def __init__(self, ctx: Context, audio: AudioStore, decider: Decider) -> None:
        self.ctx = ctx
        self.audio = audio
        self.decider = decider
        self.budget = Budget(ctx, audio)
        self.voice = Voice(ctx)
        self._inflight: dict[tuple[str, int], TurnJob] = {}  # lines being written, by turn
        self._working: dict[tuple[str, int], asyncio.Task[str]] = {}  # webhooks being answered
        self._tasks: set[asyncio.Task[None]] = set()

    async def aclose(self) -> None:
        """Let lines being written finish (they are short), so no answered turn is lost."""
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
        await self.budget.aclose()

    async def answer(self, ask: Ask, *, wait: int) -> str:
        """Answer inside the budget, however slow the database or the providers are.

        The work runs as its own task: when the budget is up first, a bridging line goes back
        with a `<Redirect>` to this same turn, and the work goes on (the decision is stored,
        the line written). The redirect, or a retry of the same webhook, joins that work.
        """
        log = self.ctx.log.bind(call_id=ask.call_id, call_sid=ask.sid, turn=ask.number)
        key = (ask.call_id, ask.number) if ask.call_id and ask.number is not None else None
        work = self._working.get(key) if key is not None else None
        if work is None:
            work = asyncio.create_task(self._answer(ask, log))
            work.add_done_callback(self._forget(key))
            if key is not None:
                self._working[key] = work
        try:
            return await asyncio.wait_for(
                asyncio.shield(work), timeout=self.budget.remaining(ask.started)
            )
        except TimeoutError:
            pass
        if key is None:
            return await work  # no turn number to come back to: nothing to bridge with
        job = self._inflight.get(key)
        if wait < MAX_BRIDGES:
            return self.budget.bridge(key[0], key[1], wait, ask.started, log)
        if job is not None:
            # The next turn must find this one's decision: it is stored before any answer.
            try:
                await asyncio.wait_for(job.stored(), self.budget.remaining(ask.started))
            except TimeoutError:
                if wait < 2 * MAX_BRIDGES:
                    return self.budget.bridge(key[0], key[1], wait, ask.started, log)
                await job.stored()
            except IntegrityError:
                return await work  # decided on another instance: that answer stands
            return await self.budget.give_up(
                job.call_id, job.number, job.request, job.decision.then, log, started=ask.started
            )
        if wait < 2 * MAX_BRIDGES:
            # Not even decided yet (a database that slow): one more bridge rather than a wait
            # past the budget, which Twilio would answer with its fallback.
            return self.budget.bridge(key[0], key[1], wait, ask.started, log)
        return await work

    def _forget(self, key: tuple[str, int] | None) -> Any:
        def done(work: asyncio.Task[str]) -> None:
            if key is not None and self._working.get(key) is work:
                del self._working[key]
            if not work.cancelled() and work.exception() is not None:
                self.ctx.log.error("turn_failed", key=str(key), error=repr(work.exception()))

        return done

    async def _answer(self, ask: Ask, log: Any) -> str:
        read = await self.decider.admit(ask, log)
        if read is None:
            return twiml.hang_up()
        log = log.bind(call_id=read.call.id)
        if read.stored is not None:
            return await self._replay(read.call.id, read.stored, log)
        job = await self.decider.decide(read, ask, audio_id=new_audio_id(), log=log)
        self._start(job, log)
        try:
            await job.stored()
        except IntegrityError:
            # The same turn raced in on another instance: the one stored first answers.
            raced = await records.stored_turn(self.ctx.sessions, read.call.id, read.number)
            if raced is None:
                raise
            return await self._replay(read.call.id, raced, log)
        return await self._final(job)

    def _start(self, job: TurnJob, log: Any) -> None:
        key = (job.call_id, job.number)
        self._inflight[key] = job
        task = asyncio.create_task(self._produce(job, log), name=f"turn-{job.call_id}-{job.number}")
        self._tasks.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self._tasks.discard(finished)
            self._inflight.pop(key, None)
            if not finished.cancelled() and finished.exception() is not None:
                error = finished.exception()
                # Answered elsewhere, or never decided here (a cross-instance race): not a failure.
                if not isinstance(error, TurnAlreadyAnswered | IntegrityError):
                    self.ctx.log.error(
                        "turn_failed", call_id=job.call_id, turn=job.number, error=repr(error)
                    )

        task.add_done_callback(done)

    async def _final(self, job: TurnJob) -> str:
        try:
            return await asyncio.shield(job.answer)
        except TurnAlreadyAnswered:
            answer = await records.stored_answer(self.ctx.sessions, job.call_id, job.number)
            return answer or twiml.hang_up()

    async def _replay(self, call_id: str, stored: TurnRow, log: Any) -> str:
        if stored.status == "ready":
            log.info("webhook_replayed", turn=stored.number)
            return stored.twiml
        job = self._inflight.get((call_id, stored.number))
        if job is not None:
            return await self._final(job)
        answer = await replay.watch(self.ctx, call_id, stored.number)
        if answer is not None:
            return answer
        request = request_from_plan(call_id, stored)
        then = Then((stored.plan or {}).get("then", Then.LISTEN.value))
        return await self.budget.give_up(
            call_id, stored.number, request, then, log, started=time.perf_counter()
        )

    async def _produce(self, job: TurnJob, log: Any) -> None:
        """Write and voice the line; resolves `job.answer` with the TwiML once it is stored."""
        try:
            await self._write(job, log)
        except Exception as exc:  # the answer must always resolve, whatever failed
            if not job.answer.done():
                job.answer.set_exception(exc)
            raise

    async def _write(self, job: TurnJob, log: Any) -> None:
        try:
            first, sentences = await line.first_sentence(self.ctx, job)
        except line.LineFailed as exc:
            await self._language_failed(job, str(exc), log)
            return
        said = [first]
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        queue.put_nowait(first)
        rest = asyncio.create_task(self._read_rest(job, sentences, said, queue))
        stream = self.audio.open(job.audio_id) if self.ctx.providers.speech else None
        speaking = asyncio.create_task(self.voice.speak(job, queue, stream)) if stream else None
        if stream is not None and await self.voice.first_audio(job, stream):
            spoken = twiml.Spoken(" ".join(said), self.ctx.audio_url(job.audio_id))
        else:
            await rest  # <Say> needs the whole line
            spoken = twiml.Spoken(" ".join(said))
        await self._store(job, spoken, job.decision)
        answered = (spoken.text, dict(job.stages))
        await rest
        if speaking is not None:
            await speaking
        for stage, ms in job.stages.items():
            self.ctx.metrics.stage_ms.labels(stage=stage).observe(ms)
        if answered == (" ".join(said), job.stages):
            return  # the stored line is already whole: no second write for the same row
        await records.complete_line(
            self.ctx.sessions,
            call_id=job.call_id,
            audio_id=job.audio_id if spoken.audio_url else None,
            text=" ".join(said),
            stages=job.stages,
        )

    async def _read_rest(
        self, job: TurnJob, sentences: Any, said: list[str], queue: asyncio.Queue[str | None]
    ) -> None:
        try:
            async for sentence in sentences:
                said.append(sentence)
                queue.put_nowait(sentence)
        except LanguageError as exc:  # the first sentence is out: the line ends where it stopped
            self.ctx.log.warning("llm_error_mid_line", call_id=job.call_id, error=str(exc))
        finally:
            job.stages["language_total"] = ms_since(job.asked)
            queue.put_nowait(None)

    async def _store(self, job: TurnJob, spoken: twiml.Spoken, decision: Decision) -> None:
        await job.stored()
        answer = render(self.ctx, job.call_id, job.number, spoken, decision.then)
        latency = ms_since(job.started)
        job.stages["webhook"] = latency
        job.stages["overhead"] = max(0.0, latency - job.waited_ms)
        stored = await records.record_answer(
            self.ctx.sessions,
            call_id=job.call_id,
            number=job.number,
            twiml=answer,
            text=spoken.text,
            state=decision.state.value,
            audio_id=job.audio_id if spoken.audio_url else None,
            latency_ms=latency,
            stages=job.stages,
        )
        if not stored:
            raise TurnAlreadyAnswered(job.call_id, job.number)
        if not job.answer.done():
            job.answer.set_result(answer)
        self.ctx.log.info(
            "turn",
            call_id=job.call_id,
            turn=job.number,
            state=decision.state.value,
            intent=job.intent,
            latency_ms=round(latency, 3),
            audio=bool(spoken.audio_url),
        )

    async def _language_failed(self, job: TurnJob, error: str, log: Any) -> None:
        """The model failed before its first sentence: the funnel's stop, then its goodbye."""
        log.error("llm_error", turn=job.number, error=error)
        await job.stored()
        stopped = await self.decider.stop(
            Cause.LANGUAGE_FAILED, call_id=job.call_id, error=error, log=log
        )
        decision = stopped or _ending(job.decision)
        request = replace(job.request, lines=decision.lines, end_reason=decision.end_reason)
        text = self.ctx.fallback.compose(request)
        await self._store(job, twiml.Spoken(text), decision)


def _ending(decision: Decision) -> Decision:
    return replace(
        decision, progress=replace(decision.progress, state=State.END), then=Then.HANG_UP
    )
