"""The read side for the dashboard and the API's filtered list: one session per read.

Routes call this and never open a session themselves; the SQL is in `db/dashboard_repo.py` and
`db/analytics_repo.py`. What it returns are read models (`CallLine`, `Snapshot`, `Analytics`)
holding stored rows, which pages only read.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from voiceagent.calls.context import Context
from voiceagent.db import analytics_repo, dashboard_repo
from voiceagent.db.analytics_repo import Analytics
from voiceagent.db.dashboard_repo import (
    END_REASONS,
    OUTCOMES,
    STATES,
    STATUSES,
    CallFilter,
    CallLine,
    Snapshot,
)
from voiceagent.db.tables import CallRow, DncRow, MessageRow

# The web layer names these through this module, never through `db/`.
__all__ = [
    "END_REASONS",
    "OUTCOMES",
    "STATES",
    "STATUSES",
    "Analytics",
    "CallFilter",
    "CallLine",
    "CallUpdate",
    "Dashboard",
    "Snapshot",
]


@dataclass(frozen=True)
class CallUpdate:
    """One look at a watched call: where it stands, and its messages past a sequence number."""

    snapshot: Snapshot | None  # None: there is no such call
    messages: Sequence[MessageRow]


class Dashboard:
    def __init__(self, ctx: Context) -> None:
        self._sessions = ctx.sessions

    async def calls(
        self, flt: CallFilter, *, limit: int, offset: int
    ) -> tuple[list[CallLine], int]:
        async with self._sessions() as session:
            return await dashboard_repo.list_calls(
                session=session, flt=flt, limit=limit, offset=offset
            )

    async def calls_batch(
        self, flt: CallFilter, *, after: tuple[datetime, str] | None, size: int
    ) -> list[CallLine]:
        async with self._sessions() as session:
            return await dashboard_repo.list_calls_batch(
                session=session, flt=flt, after=after, size=size
            )

    async def active(self, *, now: datetime) -> list[CallLine]:
        async with self._sessions() as session:
            return await dashboard_repo.list_active(session=session, now=now)

    async def find_calls(
        self, flt: CallFilter, *, limit: int, offset: int
    ) -> tuple[Sequence[CallRow], int]:
        async with self._sessions() as session:
            return await dashboard_repo.find_calls(
                session=session, flt=flt, limit=limit, offset=offset
            )

    async def dnc_entries(self, *, q: str, limit: int, offset: int) -> tuple[Sequence[DncRow], int]:
        async with self._sessions() as session:
            return await dashboard_repo.list_dnc(session=session, q=q, limit=limit, offset=offset)

    async def blocked_among(self, phones: Collection[str]) -> set[str]:
        async with self._sessions() as session:
            return await dashboard_repo.blocked_among(session=session, phones=phones)

    async def analytics(self, flt: CallFilter) -> Analytics:
        async with self._sessions() as session:
            return await analytics_repo.analytics(session=session, flt=flt)

    async def poll(self, call_id: str, *, after: int) -> CallUpdate:
        """Both reads in one session, so the snapshot and the messages agree."""
        async with self._sessions() as session:
            snap = await dashboard_repo.snapshot(session=session, call_id=call_id)
            new = await dashboard_repo.messages_after(session=session, call_id=call_id, seq=after)
        return CallUpdate(snap, new)
