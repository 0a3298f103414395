"""Speaking a line for the Gather loop: each sentence to synthesis as soon as it is written.

Twilio plays a `<Play>` file only once it has all of it, so the second sentence's synthesis must
not wait for the first one's to end: each starts when its text is known, and the parts are
joined in order into the line's one audio stream.
"""

from __future__ import annotations

import asyncio
import time

from voiceagent.calls.audio import AudioStream
from voiceagent.calls.context import Context
from voiceagent.calls.turn.job import TurnJob, ms_since
from voiceagent.errors import SpeechError
from voiceagent.providers.audio import ulaw_of


class Voice:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def speak(
        self, job: TurnJob, queue: asyncio.Queue[str | None], stream: AudioStream
    ) -> None:
        """Voice the sentences put on `queue` (None ends it) into `stream`."""
        started = time.perf_counter()
        parts: asyncio.Queue[AudioStream | None] = asyncio.Queue()
        dispatcher = asyncio.create_task(self._dispatch(job, queue, parts))
        try:
            while (part := await parts.get()) is not None:
                async for chunk in part.read():
                    job.stages.setdefault("tts_first_byte", ms_since(started))
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
            job.stages["tts_total"] = ms_since(started)

    async def first_audio(self, job: TurnJob, stream: AudioStream) -> bool:
        """Wait for the line's first audio bytes; False when synthesis failed before them."""
        waited = time.perf_counter()
        await stream.first_chunk()
        job.waited_ms += ms_since(waited)
        return bool(stream.chunks) and not (stream.failed and stream.size == 0)

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
