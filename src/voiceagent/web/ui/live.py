"""Live views: the active-calls table that refreshes itself, and one call's transcript as SSE.

The stream is fed by polling the database for messages past the last sequence number sent, so it
works on every instance behind a load balancer, whichever one is running the call's webhooks.
One poll per call serves all its watchers (`streams.StreamHub`), and a client may hold only a
few streams at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from voiceagent.calls.status import FINISHED
from voiceagent.web.deps import Reads
from voiceagent.web.inputs import MAX_INT, ascii_int
from voiceagent.web.limits import client_key
from voiceagent.web.ui.auth import Operator
from voiceagent.web.ui.render import fragment, page
from voiceagent.web.ui.streams import StreamHub, Watched

router = APIRouter(dependencies=[Operator])
CHECK_SECONDS = 1.0  # how often a quiet stream looks whether its browser is still there
HEARTBEAT_SECONDS = 15.0
# The browser reconnects with Last-Event-ID, so a stream may end at any time; ending streams
# now and then keeps a stuck call from holding a connection (and a server shutdown) forever.
MAX_STREAM_SECONDS = 300.0


async def _active(reads: Reads) -> dict[str, object]:
    now = datetime.now(UTC)
    return {"lines": await reads.active(now=now), "updated": now}


@router.get("/ui/live", response_class=HTMLResponse)
async def live_page(request: Request, reads: Reads) -> HTMLResponse:
    return page(request, "live.html", {"title": "Live", **await _active(reads)})


@router.get("/ui/live/active", response_class=HTMLResponse)
async def active_rows(request: Request, reads: Reads) -> HTMLResponse:
    return HTMLResponse(fragment(request, "_active.html", await _active(reads)))


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
    reads: Reads,
    after: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
    view: str = "call",
) -> StreamingResponse:
    simulator = view == "simulator"  # the panel then offers "start another test call"
    # The browser sends back the last id we sent; anything else it may send is ignored.
    start = max(after, ascii_int(request.headers.get("last-event-id")) or 0)
    hub = _hub(request, reads)
    client = client_key(request)
    hub.admit(client)  # 429 past the cap, before anything is streamed

    async def events() -> AsyncIterator[str]:
        try:
            async with hub.watch(call_id) as watched:
                async for event in _follow(request, watched, start, simulator):
                    yield event
        finally:
            hub.release(client)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def _hub(request: Request, reads: Reads) -> StreamHub:
    hub: StreamHub | None = getattr(request.app.state, "streams", None)
    if hub is None:
        hub = request.app.state.streams = StreamHub(reads)
    return hub


async def _follow(
    request: Request, watched: Watched, start: int, simulator: bool
) -> AsyncIterator[str]:
    seq, shown = start, None
    began = last_sent = time.monotonic()
    yield "retry: 1000\n\n"
    while True:
        changed = watched.changed  # taken before reading: a change after this wakes us
        if watched.polled:
            snap = watched.snap
            if snap is None:
                yield sse("end", "")
                return
            for message in watched.after(seq):
                seq = message.seq
                yield sse("turn", fragment(request, "_bubble.html", {"m": message}), seq)
            call = snap.call
            current = (call.status, call.state, call.end_reason, call.outcome, seq)
            if current != shown:
                shown, last_sent = current, time.monotonic()
                values = {"snap": snap, "simulator": simulator}
                yield sse("status", fragment(request, "_call_status.html", values))
            if call.status in FINISHED:
                yield sse("end", "")
                return
        if time.monotonic() - began > MAX_STREAM_SECONDS or await request.is_disconnected():
            return
        if time.monotonic() - last_sent > HEARTBEAT_SECONDS:
            last_sent = time.monotonic()
            yield ": still here\n\n"
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), timeout=CHECK_SECONDS)
