"""`GET /audio/{id}.wav`: the audio of one agent line, for Twilio's `<Play>`.

Open (Twilio fetches `<Play>` URLs unsigned): the id is unguessable and names one line. A line
still being synthesised is streamed as its bytes arrive; a finished one is sent whole, with its
exact length, since Twilio downloads the file before it plays it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status
from fastapi.responses import Response, StreamingResponse

from voiceagent.calls.audio import AudioStream
from voiceagent.providers.audio import wav, wav_header
from voiceagent.web.deps import Service

router = APIRouter()
WAV = "audio/wav"


@router.get("/audio/{audio_id}.wav", response_class=Response, summary="A line's audio, for <Play>")
async def line_audio(
    audio_id: Annotated[str, Path(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
    service: Service,
) -> Response:
    stream = await service.line_audio(audio_id)
    if stream is None or (stream.done and stream.size == 0):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no audio with that id")
    headers = {"Cache-Control": "private, max-age=600"}
    if stream.done:
        return Response(wav(b"".join(stream.chunks)), media_type=WAV, headers=headers)
    return StreamingResponse(_streamed(stream), media_type=WAV, headers=headers)


async def _streamed(stream: AudioStream) -> AsyncIterator[bytes]:
    yield wav_header(None)
    async for chunk in stream.read():
        yield chunk
