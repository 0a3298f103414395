"""ElevenLabsSpeech with the real `elevenlabs` SDK against the emulator on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from tests.conftest import CLIENT_TIMEOUT

from voiceagent.emulators.elevenlabs import ElevenLabsBehaviour, ElevenLabsEmulator, synthetic_audio
from voiceagent.errors import ConfigError, SpeechError
from voiceagent.providers.audio import AudioCache, wav
from voiceagent.providers.elevenlabs.speech import ElevenLabsSpeech
from voiceagent.web.server import serve_in_background

VOICE = "voice-test-1"
MODEL = "eleven_flash_v2_5"
LINE = "Hi, this is Ava from Acme."  # 26 characters: ~1.9 s of speech

MakeSpeech = Callable[..., ElevenLabsSpeech]


@pytest.fixture
async def emulator() -> AsyncIterator[tuple[ElevenLabsEmulator, str]]:
    # Burst by default so the tests that don't look at pacing run quickly.
    emu = ElevenLabsEmulator(behaviour=ElevenLabsBehaviour(realtime_factor=None))
    async with serve_in_background(lambda base_url: emu.app) as server:  # type: ignore[arg-type,return-value]
        yield emu, server.base_url
        emu.configure(hang=False)  # lets a hanging handler finish before the server stops


@pytest.fixture
async def make_speech(emulator: tuple[ElevenLabsEmulator, str]) -> AsyncIterator[MakeSpeech]:
    emu, base_url = emulator
    made: list[ElevenLabsSpeech] = []

    def make(**overrides: Any) -> ElevenLabsSpeech:
        args: dict[str, Any] = {
            "api_key": emu.api_key,
            "voice_id": VOICE,
            "model": MODEL,
            "base_url": base_url,
            "first_byte_timeout": 2.0,  # generous: a loaded CI machine answers slowly
            "deadline": 3.0,
        }
        speech = ElevenLabsSpeech(**(args | overrides))
        made.append(speech)
        return speech

    yield make
    for speech in made:
        await speech.aclose()


async def collect(
    speech: ElevenLabsSpeech, text: str = LINE, into: list[bytes] | None = None
) -> list[bytes]:
    """The chunks of one line; `into` keeps what arrived before a failure."""
    received = [] if into is None else into
    async for chunk in speech.synthesize(text):
        received.append(chunk)
    return received


async def test_chunks_stream_in_order_and_the_first_arrives_before_the_end(
    emulator: tuple[ElevenLabsEmulator, str], make_speech: MakeSpeech
) -> None:
    emu, _ = emulator
    emu.configure(realtime_factor=2.0, chunk_ms=100)  # ~1.9 s of audio over ~0.9 s
    loop = asyncio.get_running_loop()
    arrivals: list[float] = []
    chunks: list[bytes] = []
    async for chunk in make_speech().synthesize(LINE):
        arrivals.append(loop.time())
        chunks.append(chunk)
    assert b"".join(chunks) == synthetic_audio(LINE, "ulaw_8000")
    assert len(chunks) > 5
    assert arrivals[-1] - arrivals[0] > 0.3  # the first chunk was not held until the end


async def test_request_carries_voice_model_text_ulaw_format_and_key(
    emulator: tuple[ElevenLabsEmulator, str], make_speech: MakeSpeech
) -> None:
    emu, _ = emulator
    await collect(make_speech())
    [request] = emu.requests
    assert request.streamed
    assert (request.voice_id, request.model_id, request.text) == (VOICE, MODEL, LINE)
    assert request.output_format == "ulaw_8000"
    assert request.api_key == emu.api_key
    assert request.optimize_streaming_latency == "3"


async def test_audio_duration_follows_the_text(
    emulator: tuple[ElevenLabsEmulator, str], make_speech: MakeSpeech
) -> None:
    audio = b"".join(await collect(make_speech(), "x" * 28))
    assert len(audio) == 16000  # 28 characters at 14 a second: 2 s of 8 kHz mu-law


async def test_wrong_api_key_is_a_speech_error(make_speech: MakeSpeech) -> None:
    with pytest.raises(SpeechError, match=r"401.*Invalid API key"):
        await collect(make_speech(api_key="wrong"))


@pytest.mark.parametrize("status", [500, 429, 503])
async def test_vendor_error_is_a_speech_error_and_never_retried(
    emulator: tuple[ElevenLabsEmulator, str], make_speech: MakeSpeech, status: int
) -> None:
    emu, _ = emulator
    emu.configure(fail_status=status)
    with pytest.raises(SpeechError, match=str(status)):
        await collect(make_speech())
    assert len(emu.requests) == 1


async def test_hang_is_a_speech_error_within_the_first_byte_timeout(
    emulator: tuple[ElevenLabsEmulator, str], make_speech: MakeSpeech
) -> None:
    emu, _ = emulator
    emu.configure(hang=True)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(SpeechError, match=r"timed out|Timeout"):
        await collect(make_speech(first_byte_timeout=0.3))
    assert loop.time() - started < 2.0  # 0.3 s asked for; the margin is for a loaded machine


async def test_first_byte_later_than_the_timeout_is_a_speech_error(
    emulator: tuple[ElevenLabsEmulator, str], make_speech: MakeSpeech
) -> None:
    emu, _ = emulator
    emu.configure(first_byte_delay=1.0)
    with pytest.raises(SpeechError):
        await collect(make_speech(first_byte_timeout=0.3))


async def test_stream_slower_than_the_deadline_fails_after_some_audio(
    emulator: tuple[ElevenLabsEmulator, str], make_speech: MakeSpeech
) -> None:
    emu, _ = emulator
    emu.configure(realtime_factor=1.0)  # 4 s of audio at real time
    received: list[bytes] = []
    with pytest.raises(SpeechError):
        await collect(make_speech(first_byte_timeout=0.5, deadline=0.6), "y" * 56, into=received)
    assert received  # audio had started: the caller keeps what it chooses to


async def test_connection_cut_mid_stream_is_a_speech_error(
    emulator: tuple[ElevenLabsEmulator, str], make_speech: MakeSpeech
) -> None:
    emu, _ = emulator
    emu.configure(cut_mid_stream=True, chunk_ms=200)
    received: list[bytes] = []
    with pytest.raises(SpeechError, match="stream failed"):
        await collect(make_speech(), into=received)
    assert 0 < len(b"".join(received)) < len(synthetic_audio(LINE, "ulaw_8000"))


async def test_empty_audio_is_a_speech_error(
    emulator: tuple[ElevenLabsEmulator, str], make_speech: MakeSpeech
) -> None:
    emu, _ = emulator
    emu.configure(empty_audio=True)
    with pytest.raises(SpeechError, match="no audio"):
        await collect(make_speech())


async def test_blank_line_fails_without_a_request(
    emulator: tuple[ElevenLabsEmulator, str], make_speech: MakeSpeech
) -> None:
    emu, _ = emulator
    with pytest.raises(SpeechError):
        await collect(make_speech(), "  ")
    assert emu.requests == []


def test_base_url_ending_in_v1_fails_naming_the_setting() -> None:
    with pytest.raises(ConfigError, match="ELEVENLABS_BASE_URL"):
        ElevenLabsSpeech(api_key="k", voice_id=VOICE, base_url="https://api.elevenlabs.io/v1/")


async def test_cache_warms_once_then_serves_from_memory(
    emulator: tuple[ElevenLabsEmulator, str], make_speech: MakeSpeech
) -> None:
    emu, _ = emulator
    speech = make_speech()
    cache = AudioCache(voice=VOICE, model=MODEL)
    lines = [LINE, "Thanks for your time.", LINE]
    assert await cache.warm(lines, speech) == 2
    assert await cache.warm(lines, speech) == 0
    assert len(emu.requests) == 2
    assert cache.get(LINE) == wav(synthetic_audio(LINE, "ulaw_8000") or b"")


async def test_cache_skips_lines_that_fail_and_retries_them_on_the_next_warm(
    emulator: tuple[ElevenLabsEmulator, str], make_speech: MakeSpeech
) -> None:
    emu, _ = emulator
    speech = make_speech()
    cache = AudioCache(voice=VOICE, model=MODEL)
    await cache.warm(["Hello there."], speech)
    emu.configure(fail_status=500)
    assert await cache.warm(["Hello there.", "Goodbye now."], speech) == 0
    assert cache.get("Goodbye now.") is None
    assert cache.get("Hello there.") is not None
    emu.configure(fail_status=None)
    assert await cache.warm(["Goodbye now."], speech) == 1
    assert [r.text for r in emu.requests] == ["Hello there.", "Goodbye now.", "Goodbye now."]


async def test_cache_evicts_least_recently_used_past_its_bound(
    emulator: tuple[ElevenLabsEmulator, str], make_speech: MakeSpeech
) -> None:
    speech = make_speech()
    cache = AudioCache(voice=VOICE, model=MODEL, max_entries=2, concurrency=1)
    await cache.warm(["One.", "Two."], speech)
    assert cache.get("One.") is not None  # "Two." is now the least recently used
    await cache.warm(["Three."], speech)
    assert len(cache) == 2
    assert cache.get("Two.") is None
    assert cache.get("One.") is not None


async def test_emulator_speaks_the_wire_protocol(emulator: tuple[ElevenLabsEmulator, str]) -> None:
    emu, base_url = emulator
    body = {"text": "x" * 14, "model_id": MODEL, "voice_settings": {"stability": 0.5}}
    async with httpx.AsyncClient(base_url=base_url, timeout=CLIENT_TIMEOUT) as client:
        denied = await client.post(f"/v1/text-to-speech/{VOICE}/stream", json=body)
        headers = {"xi-api-key": emu.api_key}
        pcm = await client.post(
            f"/v1/text-to-speech/{VOICE}?output_format=pcm_16000", json=body, headers=headers
        )
        mp3 = await client.post(
            f"/v1/text-to-speech/{VOICE}/stream?output_format=mp3_22050_32",
            json=body,
            headers=headers,
        )
        default = await client.post(f"/v1/text-to-speech/{VOICE}", json=body, headers=headers)
    assert denied.status_code == 401
    assert denied.json()["detail"]["status"] == "invalid_api_key"
    assert len(pcm.content) == 32000  # 1 s of 16-bit samples at 16 kHz
    assert mp3.headers["content-type"] == "audio/mpeg"
    assert mp3.content[:3] == b"\xff\xf3\x40"  # MPEG-2 Layer III, 32 kbps, 22.05 kHz
    assert default.content[:2] == b"\xff\xfb"  # mp3_44100_128 when no format is asked for
    assert emu.requests[0].voice_settings == {"stability": 0.5}
