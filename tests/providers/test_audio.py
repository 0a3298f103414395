"""The WAV wrapping Twilio's <Play> gets, and the fixed-line cache, read back byte by byte."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voiceagent.errors import SpeechError
from voiceagent.providers.audio import (
    HEADER_BYTES,
    AudioCache,
    duration_seconds,
    wav,
    wav_header,
)


def parse(data: bytes) -> dict[str, int | bytes]:
    """Python's `wave` refuses mu-law, so the RIFF chunks are read with struct."""
    riff, riff_size, wave = struct.unpack_from("<4sI4s", data, 0)
    assert (riff, wave) == (b"RIFF", b"WAVE")
    fields: dict[str, int | bytes] = {"riff_size": riff_size}
    offset = 12
    while offset < len(data):
        chunk_id, size = struct.unpack_from("<4sI", data, offset)
        body = offset + 8
        if chunk_id == b"fmt ":
            tag, channels, rate, byte_rate, align, bits = struct.unpack_from("<HHIIHH", data, body)
            fields |= {"fmt_size": size, "tag": tag, "channels": channels, "rate": rate}
            fields |= {"byte_rate": byte_rate, "align": align, "bits": bits}
        elif chunk_id == b"fact":
            fields["fact_samples"] = struct.unpack_from("<I", data, body)[0]
        elif chunk_id == b"data":
            fields["data_size"] = size
            fields["data"] = data[body : body + size]
            break
        offset = body + size + (size & 1)
    return fields


def test_header_describes_8khz_mono_8bit_mulaw() -> None:
    parsed = parse(wav(b"\x7f" * 8000))
    assert parsed["tag"] == 7  # WAVE_FORMAT_MULAW
    assert (parsed["rate"], parsed["channels"], parsed["bits"]) == (8000, 1, 8)
    assert (parsed["byte_rate"], parsed["align"]) == (8000, 1)
    assert parsed["fmt_size"] == 18
    assert parsed["fact_samples"] == parsed["data_size"] == 8000


@given(st.binary(max_size=3000))
def test_complete_file_has_exact_sizes_and_carries_the_audio(ulaw: bytes) -> None:
    data = wav(ulaw)
    parsed = parse(data)
    assert parsed["data"] == ulaw
    assert parsed["data_size"] == len(ulaw)
    assert parsed["riff_size"] == len(data) - 8  # odd audio is padded, and the pad is counted
    assert len(data) == HEADER_BYTES + len(ulaw) + len(ulaw) % 2


def test_streaming_header_has_maximal_sizes() -> None:
    parsed = parse(wav_header(None) + b"\xff" * 10)
    assert parsed["riff_size"] == parsed["data_size"] == parsed["fact_samples"] == 0xFFFFFFFF
    assert parsed["tag"] == 7
    assert len(wav_header(None)) == len(wav_header(0)) == HEADER_BYTES


def test_header_refuses_negative_size() -> None:
    with pytest.raises(ValueError, match="cannot hold"):
        wav_header(-1)


def test_duration_is_one_second_per_8000_bytes() -> None:
    assert duration_seconds(8000) == 1.0
    assert duration_seconds(4000) == 0.5


class CountingSpeech:
    """A speech provider that says each line as one byte per character, failing on request."""

    name = "counting"

    def __init__(self, failing: frozenset[str] = frozenset()) -> None:
        self.failing = failing
        self.calls: list[str] = []

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        self.calls.append(text)
        if text in self.failing:
            raise SpeechError("vendor down")
        yield text.encode()


async def test_warm_skips_failures_and_keys_by_voice_and_model() -> None:
    speech = CountingSpeech(failing=frozenset({"Broken line."}))
    cache = AudioCache(voice="v1", model="m1")
    assert await cache.warm(["Hello.", "Broken line.", "Hello.", ""], speech) == 1
    assert speech.calls == ["Hello.", "Broken line."]
    assert cache.get("Broken line.") is None
    assert cache.get("Hello.") == wav(b"Hello.")
    other_voice = AudioCache(voice="v2", model="m1")
    assert "Hello." not in other_voice


async def test_put_evicts_the_least_recently_used() -> None:
    cache = AudioCache(voice="v", model="m", max_entries=2)
    cache.put("a", b"A")
    cache.put("b", b"B")
    cache.get("a")
    cache.put("c", b"C")
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (b"A", None, b"C")
