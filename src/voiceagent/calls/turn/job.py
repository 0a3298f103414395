"""The shared ground of a turn: its typed request (`Ask`) and the work in flight (`TurnJob`)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from voiceagent.funnel import Decision
from voiceagent.providers.base import Input, LineRequest


@dataclass(frozen=True, slots=True)
class Ask:
    """One caller turn, as an edge hands it to the core: which call, which turn, what happened."""

    call_id: str | None
    sid: str
    number: int | None  # None: the next turn of the call
    input: Input
    started: float  # perf_counter() when the carrier's request arrived


@dataclass
class TurnJob:
    """A decided turn whose line is being written."""

    call_id: str
    number: int
    decision: Decision
    request: LineRequest
    started: float  # perf_counter() when the carrier's request arrived
    audio_id: str
    intent: str | None = None
    # The decision's write, in flight while the line is written; awaited before any answer.
    decided: asyncio.Future[None] | None = None
    answer: asyncio.Future[str] = field(default_factory=lambda: _answer_future())
    stages: dict[str, float] = field(default_factory=dict)
    waited_ms: float = 0.0  # time the critical path spent waiting on providers
    asked: float = 0.0  # perf_counter() when the language provider was asked for the line

    async def stored(self) -> None:
        """Nothing about a turn is stored before its decision is."""
        if self.decided is not None:
            await asyncio.shield(self.decided)


class TurnAlreadyAnswered(Exception):
    def __init__(self, call_id: str, number: int) -> None:
        super().__init__(f"turn {number} of call {call_id} was answered elsewhere")


def _answer_future() -> asyncio.Future[str]:
    future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    # Nobody may be waiting any more (a bridged turn answered from the script): an exception
    # here is logged by the producer's task, not again by the garbage collector.
    future.add_done_callback(lambda done: done.cancelled() or done.exception())
    return future


def ms_since(since: float) -> float:
    return (time.perf_counter() - since) * 1000
