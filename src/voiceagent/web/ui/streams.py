"""One database poll per watched call, shared by all its watchers, and a cap per client.

Every open call page holds a server-sent event stream. Polled per stream, 500 of them on one call
were 500 polls every 0.4 s, enough to slow the calls themselves. Here the first watcher of a call
starts its poll, later ones read what it found, and the last one to leave stops it. A client may
hold `per_client` streams at once; one more is answered 429.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import HTTPException, status

from voiceagent.calls.dashboard import Dashboard, Snapshot
from voiceagent.calls.status import FINISHED
from voiceagent.db.tables import MessageRow

POLL_SECONDS = 0.4
MAX_STREAMS_PER_CLIENT = 8  # a few tabs of call pages; a script opening hundreds gets 429


@dataclass
class Watched:
    """What the poll knows about one call: read by every watcher, written by the poll alone."""

    call_id: str
    snap: Snapshot | None = None
    messages: list[MessageRow] = field(default_factory=list)
    polled: bool = False  # at least once: `snap` is None because there is no such call
    watchers: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    @property
    def over(self) -> bool:
        return self.polled and (self.snap is None or self.snap.call.status in FINISHED)

    def after(self, seq: int) -> Sequence[MessageRow]:
        return [m for m in self.messages if m.seq > seq]

    def _notify(self) -> None:
        # A fresh event per change: a watcher holds the one it saw, and wakes when it is set.
        old, self.changed = self.changed, asyncio.Event()
        old.set()


class StreamHub:
    def __init__(
        self,
        reads: Dashboard,
        *,
        poll_seconds: float = POLL_SECONDS,
        per_client: int = MAX_STREAMS_PER_CLIENT,
    ) -> None:
        self.reads, self.poll_seconds, self.per_client = reads, poll_seconds, per_client
        self.calls: dict[str, Watched] = {}
        self.clients: dict[str, int] = {}
        self.polls = 0  # database polls made, all calls together

    def admit(self, client: str) -> None:
        """Count one more stream for `client`, or refuse it with 429."""
        if self.clients.get(client, 0) >= self.per_client:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                detail=f"at most {self.per_client} live streams per client: close some pages",
                headers={"Retry-After": "5"},
            )
        self.clients[client] = self.clients.get(client, 0) + 1

    def release(self, client: str) -> None:
        left = self.clients.get(client, 1) - 1
        if left > 0:
            self.clients[client] = left
        else:
            self.clients.pop(client, None)

    @asynccontextmanager
    async def watch(self, call_id: str) -> AsyncIterator[Watched]:
        watched = self.calls.get(call_id)
        if watched is None:
            watched = self.calls[call_id] = Watched(call_id)
            watched.task = asyncio.create_task(self._poll(watched), name=f"watch-{call_id}")
        watched.watchers += 1
        try:
            yield watched
        finally:
            watched.watchers -= 1
            if watched.watchers == 0 and self.calls.get(call_id) is watched:
                del self.calls[call_id]
                if watched.task is not None:
                    watched.task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await watched.task

    async def _poll(self, watched: Watched) -> None:
        seq = 0
        while True:
            update = await self.reads.poll(watched.call_id, after=seq)
            self.polls += 1
            new = update.messages
            watched.messages.extend(new)
            seq = new[-1].seq if new else seq
            watched.snap, watched.polled = update.snapshot, True
            watched._notify()
            if watched.over:
                return  # the last state stays for watchers still reading it
            await asyncio.sleep(self.poll_seconds)
