"""A local server speaking ElevenLabs' text-to-speech API, for the real `elevenlabs` SDK to hit.

The audio is synthetic but honest about time: one tone per character at ~14 characters a second,
so a line's duration (8000 bytes a second of ulaw_8000) follows its text as real speech would.
Delays, pacing and faults are set at run time through `ElevenLabsBehaviour`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import random
import secrets
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

_PCM_RATES = frozenset({8000, 16000, 22050, 24000, 32000, 44100, 48000})
# output_format -> (MPEG version bits, bitrate index, sample-rate index, samples per frame,
# bytes per frame); enough for the SDK's default format and the smallest one.
_MP3 = {
    "mp3_22050_32": (0b10, 0b0100, 0b00, 576, 72 * 32000 // 22050),  # MPEG-2 Layer III
    "mp3_44100_128": (0b11, 0b1001, 0b00, 1152, 144 * 128000 // 44100),  # MPEG-1 Layer III
}
_DEFAULT_FORMAT = "mp3_44100_128"  # what ElevenLabs sends when output_format is absent


@dataclass
class ElevenLabsBehaviour:
    """How the emulator misbehaves; replace it (or call `configure`) between requests."""

    first_byte_delay: float = 0.0  # seconds before the response (headers and first audio) starts
    realtime_factor: float | None = 4.0  # audio paced at this multiple of real time; None: burst
    chunk_ms: int = 100  # audio per streamed chunk
    chars_per_second: float = 14.0  # speaking rate: sets each line's duration
    fail_status: int | None = None  # answer this error status instead of audio...
    fail_body: dict[str, Any] | None = None  # ...with this JSON (ElevenLabs' shape by default)
    fail_rate: float = 1.0  # ...on this share of requests, drawn from random.Random(seed)
    seed: int = 0
    hang: bool = False  # accept the request and never answer (until hang is turned off)
    cut_mid_stream: bool = False  # drop the connection after the first chunk
    empty_audio: bool = False  # 200 with no audio at all


@dataclass(frozen=True)
class TtsRequest:
    voice_id: str
    text: str | None
    model_id: str | None
    output_format: str | None
    optimize_streaming_latency: str | None
    voice_settings: dict[str, Any] | None
    api_key: str | None
    streamed: bool


class _ConnectionCut(Exception):
    """Raised mid-body so uvicorn drops the connection without the closing chunk."""


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"detail": {"status": kind, "message": message}}


_ERRORS = {
    400: ("invalid_request", "The request was invalid."),
    401: ("invalid_api_key", "Invalid API key"),
    403: ("missing_permissions", "The API key lacks the text_to_speech permission."),
    404: ("voice_not_found", "A voice with the voice_id was not found."),
    429: ("too_many_concurrent_requests", "Too many concurrent requests for your plan."),
    503: ("system_busy", "We are experiencing heavy traffic, please try again."),
}


def _encode_ulaw(sample: int) -> int:
    # G.711 mu-law: bias, find the segment (exponent), keep 4 mantissa bits, invert.
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), 32635) + 0x84
    exponent = magnitude.bit_length() - 8
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def _samples(text: str, rate: int, chars_per_second: float) -> list[int]:
    """One short tone per letter (pitch from the letter), silence for spaces and punctuation."""
    out: list[int] = []
    per_char = rate / chars_per_second
    for index, char in enumerate(text):
        count = int((index + 1) * per_char) - int(index * per_char)
        if not char.isalnum():
            out.extend([0] * count)
            continue
        step = 2 * math.pi * (180 + (ord(char) % 26) * 12) / rate
        fade = max(1, count // 8)  # ramps avoid clicks between letters
        out.extend(
            int(6000 * min(1.0, n / fade, (count - n) / fade) * math.sin(step * n))
            for n in range(count)
        )
    return out


@lru_cache(maxsize=128)
def synthetic_audio(text: str, output_format: str, chars_per_second: float = 14.0) -> bytes | None:
    """The emulator's audio for `text`, or None when the format is not one it speaks."""
    if output_format == "ulaw_8000":
        return bytes(_encode_ulaw(s) for s in _samples(text, 8000, chars_per_second))
    codec, _, rate = output_format.partition("_")
    if codec == "pcm" and rate.isdigit() and int(rate) in _PCM_RATES:
        samples = _samples(text, int(rate), chars_per_second)
        return struct.pack(f"<{len(samples)}h", *samples)
    if output_format in _MP3:
        version, bitrate, sample_rate, per_frame, frame_bytes = _MP3[output_format]
        hz = int(output_format.split("_")[1])
        frames = math.ceil(len(text) / chars_per_second * hz / per_frame)
        # Sync, version, Layer III, no CRC; bitrate; rate; mono. Zeroed side info is silence.
        header = bytes((0xFF, 0xE0 | version << 3 | 0b011, bitrate << 4 | sample_rate << 2, 0xC0))
        return (header + bytes(frame_bytes - 4)) * frames
    return None


def _bytes_per_second(output_format: str) -> int:
    if output_format in _MP3:
        return int(output_format.rsplit("_", 1)[1]) * 125
    if output_format.startswith("pcm_"):
        return int(output_format.split("_")[1]) * 2
    return 8000


def _media_type(output_format: str) -> str:
    if output_format.startswith("mp3"):
        return "audio/mpeg"
    return "audio/basic" if output_format.startswith("ulaw") else "audio/pcm"


class ElevenLabsEmulator:
    def __init__(self, api_key: str | None = None, behaviour: ElevenLabsBehaviour | None = None):
        self.api_key = api_key or secrets.token_hex(16)
        self.requests: list[TtsRequest] = []
        self.behaviour = behaviour or ElevenLabsBehaviour()
        self.app = Starlette(
            routes=[
                Route("/v1/text-to-speech/{voice_id}/stream", self._stream, methods=["POST"]),
                Route("/v1/text-to-speech/{voice_id}", self._convert, methods=["POST"]),
            ]
        )

    @property
    def behaviour(self) -> ElevenLabsBehaviour:
        return self._behaviour

    @behaviour.setter
    def behaviour(self, behaviour: ElevenLabsBehaviour) -> None:
        self._behaviour = behaviour
        self._rng = random.Random(behaviour.seed)

    def configure(self, **changes: Any) -> ElevenLabsBehaviour:
        """Change some of the behaviour, e.g. `configure(first_byte_delay=0.5, hang=False)`."""
        self.behaviour = dataclasses.replace(self.behaviour, **changes)
        return self.behaviour

    def reset(self) -> None:
        self.behaviour = ElevenLabsBehaviour()
        self.requests.clear()

    async def _stream(self, request: Request) -> Response:
        return await self._speak(request, streamed=True)

    async def _convert(self, request: Request) -> Response:
        return await self._speak(request, streamed=False)

    async def _speak(self, request: Request, *, streamed: bool) -> Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        body = body if isinstance(body, dict) else {}
        key = request.headers.get("xi-api-key")
        output_format = request.query_params.get("output_format")
        self.requests.append(
            TtsRequest(
                voice_id=request.path_params["voice_id"],
                text=body.get("text"),
                model_id=body.get("model_id"),
                output_format=output_format,
                optimize_streaming_latency=request.query_params.get("optimize_streaming_latency"),
                voice_settings=body.get("voice_settings"),
                api_key=key,
                streamed=streamed,
            )
        )
        if key is None or not secrets.compare_digest(key, self.api_key):
            return JSONResponse(_error(*_ERRORS[401]), status_code=401)
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            # ElevenLabs validates with FastAPI: 422 with a list of field errors.
            detail = [{"loc": ["body", "text"], "msg": "field required", "type": "value_error"}]
            return JSONResponse({"detail": detail}, status_code=422)
        output_format = output_format or _DEFAULT_FORMAT
        behaviour = self.behaviour
        audio = synthetic_audio(text, output_format, behaviour.chars_per_second)
        if audio is None:
            message = f"output_format {output_format} is not supported by the emulator"
            return JSONResponse(_error("invalid_output_format", message), status_code=422)
        while self.behaviour.hang and not await request.is_disconnected():
            await asyncio.sleep(0.05)
        await asyncio.sleep(behaviour.first_byte_delay)
        if behaviour.fail_status is not None and self._rng.random() < behaviour.fail_rate:
            status = behaviour.fail_status
            kind, message = _ERRORS.get(status, ("internal_server_error", "An error occurred."))
            return JSONResponse(behaviour.fail_body or _error(kind, message), status)
        audio = b"" if behaviour.empty_audio else audio
        headers = {"request-id": secrets.token_hex(10)}
        if not streamed:
            if behaviour.realtime_factor:
                seconds = len(audio) / _bytes_per_second(output_format)
                await asyncio.sleep(seconds / behaviour.realtime_factor)
            return Response(audio, media_type=_media_type(output_format), headers=headers)
        chunks = self._chunks(audio, output_format, behaviour)
        return StreamingResponse(chunks, media_type=_media_type(output_format), headers=headers)

    async def _chunks(
        self, audio: bytes, output_format: str, behaviour: ElevenLabsBehaviour
    ) -> AsyncIterator[bytes]:
        size = max(1, _bytes_per_second(output_format) * behaviour.chunk_ms // 1000)
        loop = asyncio.get_running_loop()
        start = loop.time()
        for index, offset in enumerate(range(0, len(audio), size)):
            if behaviour.realtime_factor:
                # Scheduled from the start, not chunk to chunk, so the pace never drifts.
                due = start + index * behaviour.chunk_ms / 1000 / behaviour.realtime_factor
                await asyncio.sleep(max(0.0, due - loop.time()))
            yield audio[offset : offset + size]
            if behaviour.cut_mid_stream:
                raise _ConnectionCut("cut_mid_stream: dropping the connection")
