"""Live views: the active-calls table that refreshes itself, and one call's transcript as SSE.

The stream is fed by polling the database for messages past the last sequence number sent, so it
works on every instance behind a load balancer, whichever one is running the call's webhooks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from voiceagent.calls.turns import FINISHED
from voiceagent.db.tables import utcnow
from voiceagent.web.deps import Service
from voiceagent.web.inputs import MAX_INT, ascii_int
from voiceagent.web.ui import queries
from voiceagent.web.ui.auth import Operator
from voiceagent.web.ui.render import fragment, page

router = APIRouter(dependencies=[Operator])
POLL_SECONDS = 0.4
HEARTBEAT_SECONDS = 15.0
# The browser reconnects with Last-Event-ID, so a stream may end at any time; ending streams
# now and then keeps a stuck call from holding a connection (and a server shutdown) forever.
MAX_STREAM_SECONDS = 300.0


async def _active(service: Service) -> dict[str, object]:
    now = utcnow()
    async with service.ctx.sessions() as session:
        lines = await queries.list_active(session=session, now=now)
    return {"lines": lines, "updated": now}


@router.get("/ui/live", response_class=HTMLResponse)
async def live_page(request: Request, service: Service) -> HTMLResponse:
    return page(request, "live.html", {"title": "Live", **await _active(service)})


@router.get("/ui/live/active", response_class=HTMLResponse)
async def active_rows(request: Request, service: Service) -> HTMLResponse:
    return HTMLResponse(fragment(request, "_active.html", await _active(service)))


def sse(event: str, data: str, ident: int | None = None) -> str:
    lines = [f"event: {event}"]
    if ident is not None:
        lines.append(f"id: {ident}")
    lines.extend(f"data: {line}" for line in (data.splitlines() or [""]))
    return "\n".join(lines) + "\n\n"


@router.get("/ui/calls/{call_id}/stream")
async def call_stream(
    request: Request,
    call_id: str,
    service: Service,
    after: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
    view: str = "call",
) -> StreamingResponse:
    simulator = view == "simulator"  # the panel then offers "start another test call"
    # The browser sends back the last id we sent; anything else it may send is ignored.
    start = max(after, ascii_int(request.headers.get("last-event-id")) or 0)

    async def events() -> AsyncIterator[str]:
        seq, shown = start, None
        began = last_sent = time.monotonic()
        yield "retry: 1000\n\n"
        while True:
            async with service.ctx.sessions() as session:
                snap = await queries.snapshot(session=session, call_id=call_id)
                new = await queries.messages_after(session=session, call_id=call_id, seq=seq)
            if snap is None:
                yield sse("end", "")
                return
            for message in new:
                seq = message.seq
                yield sse("turn", fragment(request, "_bubble.html", {"m": message}), seq)
            call = snap.call
            current = (call.status, call.state, call.end_reason, call.outcome, seq)
            if current != shown:
                shown, last_sent = current, time.monotonic()
                yield sse(
                    "status",
                    fragment(request, "_call_status.html", {"snap": snap, "simulator": simulator}),
                )
            if call.status in FINISHED:
                yield sse("end", "")
                return
            if time.monotonic() - began > MAX_STREAM_SECONDS or await request.is_disconnected():
                return
            if time.monotonic() - last_sent > HEARTBEAT_SECONDS:
                last_sent = time.monotonic()
                yield ": still here\n\n"
            await asyncio.sleep(POLL_SECONDS)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
