"""Twilio ConversationRelay: the WebSocket a relay call runs on, and its `<Connect action>`.

The upgrade is refused (HTTP 403, nothing stored) unless `X-Twilio-Signature` signs the socket's
public URL with no parameters. Messages are read into our own types at this edge
(`providers/twilio/relay.py`); the session itself is the call service's.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Response, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from voiceagent.providers.base import StreamEvent
from voiceagent.providers.twilio import relay as wire
from voiceagent.providers.twilio import webhooks
from voiceagent.web.deps import Service
from voiceagent.web.twilio_hooks import TWIML, SignedForm

ACTION_PATH = "/twilio/relay/action"
POLICY_VIOLATION = 1008  # the close code of a refused upgrade (the client sees HTTP 403)
router = APIRouter(prefix="/twilio")


@router.websocket("/relay")
async def relay(websocket: WebSocket) -> None:
    service = websocket.app.state.service
    ctx = service.ctx
    signature = websocket.headers.get("x-twilio-signature", "")
    if not signature or not ctx.providers.telephony.verify_signature(
        ctx.relay_url(), {}, signature
    ):
        ctx.log.warning("relay_rejected", reason="missing or wrong X-Twilio-Signature")
        await websocket.close(code=POLICY_VIOLATION)
        return
    await websocket.accept()

    async def events() -> AsyncIterator[StreamEvent]:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            raw = message.get("text")
            if raw is None:
                raw = (message.get("bytes") or b"").decode("utf-8", "replace")
            event = wire.read(raw)
            if event is not None:
                yield event

    async def send(text: str) -> None:
        # The caller (or Twilio) may be gone: what follows is decided by the action callback.
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await websocket.send_text(text)

    try:
        await service.converse(events(), send)
    except WebSocketDisconnect:
        pass
    finally:
        if websocket.application_state is WebSocketState.CONNECTED:
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await websocket.close()


@router.post(
    "/relay/action", response_class=Response, summary="ConversationRelay's <Connect action>"
)
async def relay_action(
    form: SignedForm,
    service: Service,
    call_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """The session is over: `ended` (we sent `end`), `completed` (the caller hung up) or
    `failed`. Answered with TwiML that transfers or hangs up."""
    answer = await service.relay_ended(call_id=call_id, end=webhooks.session_end(form))
    return Response(answer, media_type=TWIML)
