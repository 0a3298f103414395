"""The simulator's callees: a person in a browser answering a call on the simulated carrier.

A `BrowserCallee` waits for the next reply the page posts. The queue lives in this process, so a
test call can only be played from the instance that placed it; the page says so. That is fine for
a development tool, and the call's transcript itself is read from the database like any other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from voiceagent.calls.dashboard import Dashboard
from voiceagent.calls.service import CallService
from voiceagent.providers.simulated import HANG_UP, AnswerMode, Reply, SimulatedCarrier

# 555-01xx numbers are reserved for fiction; 0101-0110 belong to the bundled personas.
NUMBER_POOL = tuple(f"+1415555{n:04d}" for n in range(150, 200))
PATIENCE_SECONDS = 600.0  # an abandoned tab hangs up instead of holding the call forever


class BrowserCallee:
    """Implements the simulated carrier's `Callee`: each reply is one the page posted."""

    answers: AnswerMode = "answer"

    def __init__(self, *, patience: float = PATIENCE_SECONDS) -> None:
        self._replies: asyncio.Queue[Reply] = asyncio.Queue()
        self._patience = patience

    async def reply(self, heard: Sequence[str]) -> Reply:
        try:
            return await asyncio.wait_for(self._replies.get(), self._patience)
        except TimeoutError:
            return HANG_UP

    def post(self, reply: Reply) -> None:
        self._replies.put_nowait(reply)


class NoFreeNumber(Exception):
    """Every simulator number is busy with a call or on the do-not-call list."""


@dataclass
class _TestCall:
    number: str
    callee: BrowserCallee


class SimulatorDesk:
    """The test calls this instance placed for browsers, by call id."""

    def __init__(self, carrier: SimulatedCarrier) -> None:
        self.carrier = carrier
        self._calls: dict[str, _TestCall] = {}
        self._lock = asyncio.Lock()
        self._watchers: set[asyncio.Task[None]] = set()

    def has(self, call_id: str) -> bool:
        return call_id in self._calls

    async def start(self, service: CallService, lead: Mapping[str, Any]) -> str:
        """Place a test call to a free simulator number; its call id."""
        # The lock keeps two browsers from taking the same number between check and dial.
        async with self._lock:
            number = await self._free_number(service)
            callee = BrowserCallee()
            self.carrier.directory.register(number, callee)
            try:
                call = await service.start_call(phone=number, lead=lead, idempotency_key=None)
            except BaseException:
                self.carrier.directory.unregister(number)
                raise
            self._calls[call.id] = _TestCall(number, callee)
        if call.twilio_sid is None:  # start_call sets it once the carrier took the call
            raise RuntimeError(f"test call {call.id} has no carrier sid")
        watcher = asyncio.create_task(self._release_when_over(call.id, call.twilio_sid))
        self._watchers.add(watcher)
        watcher.add_done_callback(self._watchers.discard)
        return call.id

    def reply(self, call_id: str, reply: Reply) -> bool:
        entry = self._calls.get(call_id)
        if entry is None:
            return False
        entry.callee.post(reply)
        return True

    async def _free_number(self, service: CallService) -> str:
        in_use = {entry.number for entry in self._calls.values()}
        blocked = await Dashboard(service.ctx).blocked_among(NUMBER_POOL)
        for number in NUMBER_POOL:
            if number not in in_use and number not in blocked:
                return number
        raise NoFreeNumber(
            "every simulator number (+1 415 555 0150 to 0199) is in a call or on the "
            "do-not-call list: finish a test call or remove one from the list"
        )

    async def _release_when_over(self, call_id: str, sid: str) -> None:
        try:
            await self.carrier.wait_for(sid)
        finally:
            entry = self._calls.pop(call_id, None)
            if entry is not None:
                self.carrier.directory.unregister(entry.number)


def desk_for(request: Request) -> SimulatorDesk | None:
    """This app's desk, made on first use; None when the app dials real phones."""
    carrier = request.app.state.service.ctx.providers.telephony
    if not isinstance(carrier, SimulatedCarrier):
        return None
    desk: SimulatorDesk | None = getattr(request.app.state, "simulator_desk", None)
    if desk is None or desk.carrier is not carrier:
        desk = SimulatorDesk(carrier)
        request.app.state.simulator_desk = desk
    return desk
