"""Audio for `<Play>`: one stream per agent line, fed by speech synthesis as it arrives.

Twilio fetches a `<Play>` URL unsigned and downloads the whole file before playing it, so each
line gets an unguessable id, and its bytes are served as soon as they exist. The streams live in
this process; another instance asked for an id it doesn't hold re-synthesises the stored line.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import OrderedDict
from collections.abc import AsyncIterator
from functools import partial


def new_audio_id() -> str:
    return secrets.token_urlsafe(24)


class AudioStream:
    """Chunks of one line's mu-law audio; readers get what exists, then wait for the rest."""

    def __init__(self, chunks: list[bytes] | None = None, *, done: bool = False) -> None:
        self.chunks: list[bytes] = list(chunks or [])
        self.done = done
        self.failed = False
        self._changed = asyncio.Condition()

    @property
    def size(self) -> int:
        return sum(len(chunk) for chunk in self.chunks)

    async def append(self, chunk: bytes) -> None:
        async with self._changed:
            self.chunks.append(chunk)
            self._changed.notify_all()

    async def finish(self, *, failed: bool = False) -> None:
        async with self._changed:
            self.done, self.failed = True, failed
            self._changed.notify_all()

    def _past(self, sent: int) -> bool:
        return self.done or len(self.chunks) > sent

    async def first_chunk(self) -> None:
        """Return once there is audio, or the stream has ended without any."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.done or bool(self.chunks))

    async def read(self) -> AsyncIterator[bytes]:
        sent = 0
        while True:
            async with self._changed:
                await self._changed.wait_for(partial(self._past, sent))
                fresh, finished = self.chunks[sent:], self.done
            if fresh:
                # One write for whatever arrived meanwhile: fewer, larger writes under load.
                yield b"".join(fresh)
            sent += len(fresh)
            if finished and sent == len(self.chunks):
                return


class AudioStore:
    """The streams of recent lines, oldest dropped first (a call fetches its audio at once)."""

    def __init__(self, capacity: int = 2000) -> None:
        self._streams: OrderedDict[str, AudioStream] = OrderedDict()
        self._capacity = capacity

    def open(self, audio_id: str, stream: AudioStream | None = None) -> AudioStream:
        opened = stream or AudioStream()
        self._streams[audio_id] = opened
        while len(self._streams) > self._capacity:
            self._streams.popitem(last=False)
        return opened

    def get(self, audio_id: str) -> AudioStream | None:
        return self._streams.get(audio_id)
