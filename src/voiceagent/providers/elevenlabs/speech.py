"""Speech through ElevenLabs' streaming text-to-speech, with the official `elevenlabs` SDK.

Audio is asked for as `ulaw_8000`, the telephone format Twilio plays untouched, and passed on
chunk by chunk. Every failure (vendor error, timeout, broken stream, no audio) becomes
`SpeechError`, and the service speaks the same line with `<Say>`: a live call never waits on a
retry.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Any, cast

import httpx
from elevenlabs.client import AsyncElevenLabs
from elevenlabs.core.api_error import ApiError
from elevenlabs.core.parse_error import ParsingError
from elevenlabs.core.request_options import RequestOptions

from voiceagent.errors import ConfigError, SpeechError
from voiceagent.providers.base import AUDIO_FORMAT

DEFAULT_MODEL = "eleven_flash_v2_5"
# The webhook must answer within WEBHOOK_BUDGET_SECONDS (1.8 s by default). Flash answers in well
# under half a second from a nearby region, so 1.2 s without audio means something is wrong, and
# it still leaves ~0.5 s of the budget to answer with <Say> instead of dead air.
FIRST_BYTE_TIMEOUT = 1.2
# Once audio flows, a long line still has to finish before Twilio gives up fetching the <Play>
# file; the vendor generates many times faster than real time, so this only stops a stalled line.
DEADLINE = 6.0
# 3 is the strongest setting that keeps the text normaliser: 4 skips it, and sales lines are full
# of prices, dates and phone numbers that then come out wrong.
OPTIMIZE_STREAMING_LATENCY = 3
# The SDK re-chunks the body to a fixed size (1024 bytes by default) and holds back any remainder
# until more arrives. 800 bytes is 100 ms of audio, held back at most a quarter of that while
# the vendor streams at four times real time; smaller chunks cost CPU per chunk under load.
_SDK_CHUNK_BYTES = 800


class ElevenLabsSpeech:
    name = "elevenlabs"

    def __init__(
        self,
        *,
        api_key: str,
        voice_id: str,
        model: str = DEFAULT_MODEL,
        base_url: str | None = None,
        first_byte_timeout: float = FIRST_BYTE_TIMEOUT,
        deadline: float = DEADLINE,
        optimize_streaming_latency: int | None = OPTIMIZE_STREAMING_LATENCY,
    ) -> None:
        if base_url is not None:
            base_url = base_url.rstrip("/")
            if base_url.endswith("/v1"):
                raise ConfigError(
                    "ELEVENLABS_BASE_URL: give the URL without /v1 (the SDK adds it), "
                    f"e.g. {base_url.removesuffix('/v1')}"
                )
        if not 0 < first_byte_timeout <= deadline:
            raise ValueError("need 0 < first_byte_timeout <= deadline")
        self.voice_id, self.model = voice_id, model
        self.first_byte_timeout, self.deadline = first_byte_timeout, deadline
        self._latency = optimize_streaming_latency
        # The SDK turns the client's timeout into one number for connect, write and every read,
        # so first_byte_timeout also bounds a stall between chunks. Keep-alive is longer than
        # httpx's 5 s because turns are further apart than that (the caller is talking), and a
        # fresh TLS handshake to the vendor would be paid on every turn.
        self._http = httpx.AsyncClient(
            timeout=first_byte_timeout,
            # Every live call may be synthesising at once; waiting for a pooled connection
            # would eat the first-byte timeout.
            limits=httpx.Limits(
                max_connections=1000, max_keepalive_connections=200, keepalive_expiry=30.0
            ),
        )
        self._client = AsyncElevenLabs(
            api_key=api_key, base_url=base_url, timeout=first_byte_timeout, httpx_client=self._http
        )
        # Streams are never retried by the SDK today; say so anyway in case a release starts to.
        self._options: RequestOptions = {"max_retries": 0, "chunk_size": _SDK_CHUNK_BYTES}

    async def aclose(self) -> None:
        await self._http.aclose()

    async def synthesize(self, text: str) -> AsyncIterator[bytes]:
        if not text.strip():
            raise SpeechError("nothing to synthesise: the line is empty")
        loop = asyncio.get_running_loop()
        started = loop.time()
        stream = cast(
            AsyncGenerator[bytes, None],
            self._client.text_to_speech.stream(
                voice_id=self.voice_id,
                text=text,
                model_id=self.model,
                output_format=AUDIO_FORMAT,
                optimize_streaming_latency=self._latency,
                request_options=self._options,
            ),
        )
        received = 0
        async with aclosing(stream):
            while True:
                limit = self.deadline if received else self.first_byte_timeout
                chunk = await _next_chunk(stream, started + limit)
                if chunk is None:
                    break
                if chunk:
                    received += len(chunk)
                    yield chunk
        if not received:
            raise SpeechError("ElevenLabs returned no audio")


async def _next_chunk(stream: AsyncGenerator[bytes, None], deadline: float) -> bytes | None:
    """The next chunk, None at the end; vendor and network failures become SpeechError.

    The time limit wraps only the wait for the chunk, never the caller's handling of it: a
    timeout scope around a `yield` would cancel whatever the consumer happened to be doing.
    """
    try:
        async with asyncio.timeout_at(deadline):
            return await anext(stream)
    except StopAsyncIteration:
        return None
    except TimeoutError as exc:
        raise SpeechError("ElevenLabs timed out") from exc
    except ApiError as exc:
        raise SpeechError(f"ElevenLabs answered {exc.status_code}: {_message(exc.body)}") from exc
    except ParsingError as exc:
        raise SpeechError(f"ElevenLabs sent an unreadable error ({exc.status_code})") from exc
    except (httpx.HTTPError, httpx.StreamError) as exc:
        # httpx's timeouts arrive here too (ReadTimeout, ConnectTimeout): the SDK passes them on.
        raise SpeechError(f"ElevenLabs stream failed: {type(exc).__name__}: {exc}") from exc


def _message(body: Any) -> str:
    """The human part of ElevenLabs' error JSON: {"detail": {"status", "message"}}."""
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, dict):
        return str(detail.get("message") or detail.get("status") or detail)
    return str(detail)[:200]
