"""Live streams: one shared poll per call for all its watchers, a per-client cap answered 429
(issue 9, item 4)."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from typing import Any

import httpx
from tests.web.test_hangup import _directory, _live_call

from voiceagent.web.ui.streams import MAX_STREAMS_PER_CLIENT, StreamHub


async def _open(stack: AsyncExitStack, http: httpx.AsyncClient, url: str) -> httpx.Response:
    response = await stack.enter_async_context(
        http.stream("GET", url, headers={"Accept": "text/event-stream"})
    )
    return response


async def test_many_watchers_of_a_call_share_one_poll(live_app: Any) -> None:
    async with live_app(_directory()) as live, AsyncExitStack() as stack:
        call = await _live_call(live.http)
        url = f"/ui/calls/{call['call_id']}/stream"
        watchers = [await _open(stack, live.http, url) for _ in range(5)]
        lines = [watcher.aiter_lines() for watcher in watchers]
        firsts = [await anext(line) for line in lines]  # each got its stream going
        hub: StreamHub = live.app.state.streams
        await asyncio.sleep(0.2)
        watching = {call_id: watched.watchers for call_id, watched in hub.calls.items()}
        before = hub.polls
        await asyncio.sleep(2.0)
        polled = hub.polls - before
        await live.http.post(f"/calls/{call['call_id']}/hangup")
        ends = []
        for line in lines:
            seen = [text async for text in line]
            ends.append("event: end" in seen)
    assert all(first.startswith("retry:") for first in firsts)
    assert watching == {call["call_id"]: 5}
    assert 1 <= polled <= 8  # one loop every 0.4 s, not five
    assert ends == [True] * 5
    assert hub.calls == {}  # the last watcher gone, the poll stopped


async def test_a_client_past_its_stream_cap_gets_429(live_app: Any) -> None:
    async with live_app(_directory()) as live, AsyncExitStack() as stack:
        call = await _live_call(live.http)
        url = f"/ui/calls/{call['call_id']}/stream"
        held = [await _open(stack, live.http, url) for _ in range(MAX_STREAMS_PER_CLIENT)]
        refused = await live.http.get(url, headers={"Accept": "text/event-stream"})
        await held[0].aclose()
        await asyncio.sleep(0.3)
        hub: StreamHub = live.app.state.streams
        again = await _open(stack, live.http, url)
        await live.http.post(f"/calls/{call['call_id']}/hangup")
    assert [r.status_code for r in held] == [200] * MAX_STREAMS_PER_CLIENT
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert again.status_code == 200  # a stream closed frees its place
    assert hub is not None
