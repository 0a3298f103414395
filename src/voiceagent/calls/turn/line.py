"""Writing the agent's line: by sentence (Gather), or in pieces as they are written (relay).

A slow model is not a broken one: past its first-sentence deadline the turn gets the script's
line and the call goes on. A model that fails before its first sentence raises `LineFailed`,
which the transport turns into the funnel's `Stopped(LANGUAGE_FAILED)` event.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from voiceagent.calls.context import Context
from voiceagent.calls.turn.job import TurnJob, ms_since
from voiceagent.errors import LanguageError, LanguageTimeout
from voiceagent.providers.base import LineRequest
from voiceagent.providers.line_check import as_pieces


class LineFailed(Exception):
    """The language model failed before the line's first words."""


async def first_sentence(ctx: Context, job: TurnJob) -> tuple[str, AsyncIterator[str]]:
    """The line's first sentence, and the rest still to come."""
    sentences = ctx.language.stream_line(job.request)
    asked = job.asked = time.perf_counter()
    try:
        first = await anext(sentences)
    except LanguageTimeout as exc:
        ctx.log.warning("llm_slow", call_id=job.call_id, turn=job.number, error=str(exc))
        sentences = ctx.fallback.stream_line(job.request)
        first = await anext(sentences)
        job.stages["language_timeout"] = ms_since(asked)
    except (LanguageError, StopAsyncIteration) as exc:
        raise LineFailed(str(exc) or "the model wrote nothing") from exc
    job.stages["language_first"] = ms_since(asked)
    job.waited_ms += job.stages["language_first"]
    return first, sentences


async def pieces(ctx: Context, job: TurnJob) -> AsyncGenerator[str]:
    """The line in pieces safe to speak as soon as they come; joined, they are the line.

    Raises `LineFailed` only before the first piece; later failures end the line where it is.
    """
    stream = _pieces_of(ctx.language, job.request)
    job.asked = time.perf_counter()
    try:
        first = await anext(stream)
    except LanguageTimeout as exc:
        ctx.log.warning("llm_slow", call_id=job.call_id, turn=job.number, error=str(exc))
        await _close(stream)
        stream = _pieces_of(ctx.fallback, job.request)
        first = await anext(stream)
    except (LanguageError, StopAsyncIteration) as exc:
        await _close(stream)
        raise LineFailed(str(exc) or "the model wrote nothing") from exc
    try:
        yield first
        async for piece in stream:
            yield piece
    except LanguageError as exc:
        ctx.log.warning("llm_error_mid_line", call_id=job.call_id, error=str(exc))
    finally:
        await _close(stream)


def _pieces_of(language: Any, request: LineRequest) -> AsyncIterator[str]:
    stream_pieces = getattr(language, "stream_pieces", None)
    if stream_pieces is not None:
        return stream_pieces(request)  # type: ignore[no-any-return]
    return as_pieces(language.stream_line(request))


async def _close(stream: AsyncIterator[str]) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()
