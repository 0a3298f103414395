"""Telephone audio as Twilio plays it: WAV around 8 kHz mu-law, and a cache for fixed lines.

Speech providers yield raw mu-law (`base.AUDIO_FORMAT`); `<Play>` needs a file with a header, so
the service wraps it here. Fixed script lines (the opening, the disclosure, the goodbyes) sound the
same on every call: they are synthesised once and served from memory.
"""

from __future__ import annotations

import asyncio
import struct
from collections import OrderedDict
from collections.abc import Iterable

from voiceagent.errors import SpeechError
from voiceagent.observability import get_logger
from voiceagent.providers.base import Speech

SAMPLE_RATE = 8000
WAVE_FORMAT_MULAW = 7
_UNKNOWN = 0xFFFFFFFF
# RIFF/WAVE + fmt (18 bytes: non-PCM formats carry cbSize) + fact + the data chunk's own header.
HEADER_BYTES = 12 + (8 + 18) + (8 + 4) + 8

log = get_logger()


def duration_seconds(ulaw_bytes: int) -> float:
    """One byte is one sample at 8 kHz."""
    return ulaw_bytes / SAMPLE_RATE


def wav_header(data_bytes: int | None) -> bytes:
    """The header of an 8 kHz mono 8-bit mu-law WAV file holding `data_bytes` of audio.

    `None` means the length is not known yet because the audio is still being synthesised while
    the file is served: every size is then 0xFFFFFFFF, the convention streaming WAV writers use
    and streaming players accept (they read the data chunk to the end of the stream). Twilio
    downloads the whole file before playing it anyway, so the sizes are never needed to seek.
    """
    if data_bytes is not None and not 0 <= data_bytes <= _UNKNOWN - HEADER_BYTES:
        raise ValueError(f"a WAV file cannot hold {data_bytes} bytes")
    if data_bytes is None:
        riff_size = samples = data_size = _UNKNOWN
    else:
        # A RIFF chunk of odd length is followed by a pad byte, which the RIFF size counts.
        riff_size = HEADER_BYTES - 8 + data_bytes + (data_bytes & 1)
        samples = data_size = data_bytes
    return b"".join(
        (
            struct.pack("<4sI4s", b"RIFF", riff_size, b"WAVE"),
            struct.pack(
                "<4sIHHIIHHH",
                b"fmt ",
                18,
                WAVE_FORMAT_MULAW,
                1,  # channels
                SAMPLE_RATE,
                SAMPLE_RATE,  # byte rate: one byte per sample, one channel
                1,  # block align
                8,  # bits per sample
                0,  # cbSize: no extension
            ),
            # Non-PCM formats must say how many samples they hold (the WAVE spec's fact chunk).
            struct.pack("<4sII", b"fact", 4, samples),
            struct.pack("<4sI", b"data", data_size),
        )
    )


def wav(ulaw: bytes) -> bytes:
    """A complete WAV file with exact sizes."""
    return wav_header(len(ulaw)) + ulaw + (b"\x00" if len(ulaw) & 1 else b"")


async def synthesize_all(speech: Speech, text: str) -> bytes:
    """The whole line as raw mu-law; SpeechError when the provider fails or yields nothing."""
    chunks = [chunk async for chunk in speech.synthesize(text)]
    audio = b"".join(chunks)
    if not audio:
        raise SpeechError(f"{speech.name} returned no audio")
    return audio


def ulaw_of(wav_bytes: bytes) -> bytes:
    """The mu-law samples of a file made by `wav` (its header has a fixed size)."""
    return wav_bytes[HEADER_BYTES:]


class AudioCache:
    """Complete WAV files for the script's fixed lines, for one voice and model.

    Keys include the voice and the model, so a cache built for one voice never answers for
    another. Least recently used entries go first once `max_entries` is reached.
    """

    def __init__(
        self, *, voice: str, model: str, max_entries: int = 256, concurrency: int = 4
    ) -> None:
        if max_entries < 1 or concurrency < 1:
            raise ValueError("max_entries and concurrency must be at least 1")
        self.voice, self.model = voice, model
        self.max_entries = max_entries
        self._concurrency = concurrency
        self._entries: OrderedDict[tuple[str, str, str], bytes] = OrderedDict()

    def _key(self, text: str) -> tuple[str, str, str]:
        return (self.voice, self.model, text)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, text: object) -> bool:
        return isinstance(text, str) and self._key(text) in self._entries

    def get(self, text: str) -> bytes | None:
        key = self._key(text)
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
        return found

    def put(self, text: str, wav_bytes: bytes) -> None:
        key = self._key(text)
        self._entries[key] = wav_bytes
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def warm(self, texts: Iterable[str], speech: Speech) -> int:
        """Synthesise the lines not cached yet; return how many were added.

        A line that fails is logged and left out: the service speaks it with `<Say>` instead, and
        the next warm tries it again. Concurrency is bounded so warming never takes every
        connection the vendor allows us while calls are live.
        """
        missing = [text for text in dict.fromkeys(texts) if text.strip() and text not in self]
        limit = asyncio.Semaphore(self._concurrency)

        async def one(text: str) -> bool:
            async with limit:
                try:
                    audio = await synthesize_all(speech, text)
                except SpeechError as exc:
                    log.warning(
                        "audio_cache_warm_failed",
                        provider=speech.name,
                        line=text[:60],
                        error=str(exc),
                    )
                    return False
            self.put(text, wav(audio))
            return True

        added = await asyncio.gather(*(one(text) for text in missing))
        return sum(added)
