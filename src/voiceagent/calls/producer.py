"""Write and voice the agent's line for a decided turn, and answer the turn as early as it can.

The line streams from the language provider sentence by sentence; with a voice configured, each
checked sentence goes to speech synthesis at once and the turn is answered with a `<Play>` of the
line's audio as soon as its first bytes exist (Twilio fetches the file right away). Without a
voice, or when synthesis fails before its first byte, the whole line is answered with `<Say>`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace

from voiceagent.calls import records, twiml
from voiceagent.calls.audio import AudioStore, AudioStream
from voiceagent.calls.context import Context
from voiceagent.errors import LanguageError, LanguageTimeout, SpeechError
from voiceagent.funnel import Decision, EndReason, Line, State, Then
from voiceagent.providers.audio import ulaw_of
from voiceagent.providers.base import LineRequest


@dataclass
class TurnJob:
    call_id: str
    number: int
    decision: Decision
    request: LineRequest
    started: float  # perf_counter() when the webhook arrived
    audio_id: str
    intent: str | None = None
    # The decision's write, in flight while the line is written; awaited before any answer.
    decided: asyncio.Future[None] | None = None
    answer: asyncio.Future[str] = field(default_factory=lambda: _answer_future())
    stages: dict[str, float] = field(default_factory=dict)
    waited_ms: float = 0.0  # time the critical path spent waiting on providers


class LineProducer:
    def __init__(self, ctx: Context, audio: AudioStore) -> None:
        self.ctx = ctx
        self.audio = audio

    def render(self, call_id: str, number: int, spoken: twiml.Spoken, then: Then) -> str:
        """The TwiML for a turn's line and what follows it (listen, transfer, hang up)."""
        settings = self.ctx.settings
        if then is Then.LISTEN:
            return twiml.listen(
                spoken,
                action=self.ctx.voice_url(call_id, number + 1),
                timeout=settings.gather_timeout_seconds,
                hints=self.ctx.hints,
            )
        if then is Then.TRANSFER and settings.handoff_number:
            return twiml.transfer(
                spoken, number=settings.handoff_number, action=self.ctx.dial_url(call_id)
            )
        return twiml.hang_up(spoken)

    async def run(self, job: TurnJob) -> None:
        """Produce the line; resolves `job.answer` with the TwiML once it is stored."""
        try:
            await self._run(job)
        except Exception as exc:  # the answer must always resolve, whatever failed
            if not job.answer.done():
                job.answer.set_exception(exc)
            raise

    async def _run(self, job: TurnJob) -> None:
        sentences = self.ctx.language.stream_line(job.request)
        asked = time.perf_counter()
        try:
            first = await anext(sentences)
        except LanguageTimeout as exc:
            # Slow is not broken: this turn gets the script's line and the call goes on.
            self.ctx.log.warning("llm_slow", call_id=job.call_id, turn=job.number, error=str(exc))
            sentences = self.ctx.fallback.stream_line(job.request)
            first = await anext(sentences)
            job.stages["language_timeout"] = _ms(asked)
        except (LanguageError, StopAsyncIteration) as exc:
            await self._language_failed(job, str(exc) or "the model wrote nothing")
            return
        job.stages["language_first"] = _ms(asked)
        job.waited_ms += job.stages["language_first"]
        said = [first]
        queue: asyncio.Queue[str | None] = asyncio.Queue()
        queue.put_nowait(first)
        rest = asyncio.create_task(self._read_rest(job, sentences, said, queue, asked))
        stream = self.audio.open(job.audio_id) if self.ctx.providers.speech else None
        speaking = asyncio.create_task(self._speak(job, queue, stream)) if stream else None

        spoken = twiml.Spoken(" ".join(said))
        if stream is not None and speaking is not None:
            if await self._first_audio(job, stream, speaking):
                spoken = twiml.Spoken(" ".join(said), self.ctx.audio_url(job.audio_id))
            else:
                await rest  # <Say> needs the whole line
                spoken = twiml.Spoken(" ".join(said))
        else:
            await rest
            spoken = twiml.Spoken(" ".join(said))
        await self._answer(job, spoken, job.decision)
        answered = (spoken.text, dict(job.stages))
        await rest
        if speaking is not None:
            await speaking
        job.stages["language_total"] = job.stages.get("language_total", _ms(asked))
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
        self,
        job: TurnJob,
        sentences: AsyncIterator[str],
        said: list[str],
        queue: asyncio.Queue[str | None],
        asked: float,
    ) -> None:
        try:
            async for sentence in sentences:
                said.append(sentence)
                queue.put_nowait(sentence)
        except LanguageError as exc:
            # The first sentence is out already: the line ends where the model stopped.
            self.ctx.log.warning("llm_error_mid_line", call_id=job.call_id, error=str(exc))
        finally:
            job.stages["language_total"] = _ms(asked)
            queue.put_nowait(None)

    async def _speak(
        self, job: TurnJob, queue: asyncio.Queue[str | None], stream: AudioStream
    ) -> None:
        """Voice each sentence as soon as it is written, all at once, and join them in order.

        Twilio plays the file only once it has all of it, so the second sentence's synthesis
        must not wait for the first one's to end: each starts when its text is known.
        """
        started = time.perf_counter()
        parts: asyncio.Queue[AudioStream | None] = asyncio.Queue()
        dispatcher = asyncio.create_task(self._dispatch(job, queue, parts))
        try:
            while (part := await parts.get()) is not None:
                async for chunk in part.read():
                    job.stages.setdefault("tts_first_byte", _ms(started))
                    await stream.append(chunk)
                if part.failed:
                    # A sentence could not be voiced: the line ends at the last one that was
                    # (or, with nothing voiced yet, the whole line goes to <Say>).
                    await stream.finish(failed=stream.size == 0)
                    return
            await stream.finish()
        finally:
            dispatcher.cancel()
            await asyncio.gather(dispatcher, return_exceptions=True)
            job.stages["tts_total"] = _ms(started)

    async def _dispatch(
        self,
        job: TurnJob,
        queue: asyncio.Queue[str | None],
        parts: asyncio.Queue[AudioStream | None],
    ) -> None:
        cache = self.ctx.audio_cache
        fills: list[asyncio.Task[None]] = []
        try:
            while (sentence := await queue.get()) is not None:
                cached = cache.get(sentence) if cache is not None else None
                if cached is not None:
                    job.stages.setdefault("tts_first_byte", 0.0)
                    parts.put_nowait(AudioStream([ulaw_of(cached)], done=True))
                    continue
                part = AudioStream()
                fills.append(asyncio.create_task(self._fill(job, sentence, part)))
                parts.put_nowait(part)
            parts.put_nowait(None)
            await asyncio.gather(*fills)
        finally:
            for fill in fills:
                fill.cancel()

    async def _fill(self, job: TurnJob, sentence: str, part: AudioStream) -> None:
        speech = self.ctx.providers.speech
        assert speech is not None
        try:
            async for chunk in speech.synthesize(sentence):
                await part.append(chunk)
        except SpeechError as exc:
            self.ctx.log.warning("tts_error", call_id=job.call_id, error=str(exc))
            await part.finish(failed=True)
            return
        await part.finish()

    async def _first_audio(
        self, job: TurnJob, stream: AudioStream, speaking: asyncio.Task[None]
    ) -> bool:
        """Wait for the line's first audio bytes; False when synthesis failed before them."""
        waited = time.perf_counter()
        await stream.first_chunk()
        job.waited_ms += _ms(waited)
        return bool(stream.chunks) and not (stream.failed and stream.size == 0)

    async def _answer(self, job: TurnJob, spoken: twiml.Spoken, decision: Decision) -> None:
        await _decided(job)
        answer = self.render(job.call_id, job.number, spoken, decision.then)
        latency = _ms(job.started)
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

    async def _language_failed(self, job: TurnJob, error: str) -> None:
        self.ctx.log.error("llm_error", call_id=job.call_id, turn=job.number, error=error)
        request = LineRequest(
            call_id=job.call_id,
            turn=job.number,
            state=job.request.state,
            lines=(Line.GOODBYE,),
            end_reason=EndReason.LLM_ERROR,
            lead=job.request.lead,
        )
        text = self.ctx.fallback.compose(request)
        failed = Decision(
            progress=job.decision.progress,
            lines=(Line.GOODBYE,),
            then=Then.HANG_UP,
            end_reason=EndReason.LLM_ERROR,
        )
        await _decided(job)
        await records.record_llm_failure(
            self.ctx.sessions,
            call_id=job.call_id,
            from_state=job.decision.state.value,
            error=error,
        )
        self.ctx.metrics.calls_ended.labels(end_reason=EndReason.LLM_ERROR.value).inc()
        await self._answer(job, twiml.Spoken(text), _ending(failed))


class TurnAlreadyAnswered(Exception):
    def __init__(self, call_id: str, number: int) -> None:
        super().__init__(f"turn {number} of call {call_id} was answered elsewhere")


def _ending(decision: Decision) -> Decision:
    return replace(decision, progress=replace(decision.progress, state=State.END))


async def _decided(job: TurnJob) -> None:
    """Nothing about a turn is stored before its decision is."""
    if job.decided is not None:
        await asyncio.shield(job.decided)


def _answer_future() -> asyncio.Future[str]:
    future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    # Nobody may be waiting any more (a bridged turn answered from the script): an exception
    # here is logged by the producer's task, not again by the garbage collector.
    future.add_done_callback(lambda done: done.cancelled() or done.exception())
    return future


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000
