"""Retention: transcripts older than RETENTION_DAYS go; outcomes and timings stay.

For each finished call created before the cut-off, its messages, transitions and turns are
deleted, its `lead` is emptied and its number kept only masked (`+1•••••••0123`), so reports on
outcomes, end reasons and durations keep working and no personal data is left. A call still
queued, ringing or in progress is never touched, however old. Do-not-call entries are never
purged: forgetting one would mean dialling someone who asked not to be called.

`purge` is idempotent (a purged call matches nothing the next time), so several instances may
each run the daily job against one database.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from voiceagent.calls.periodic import every
from voiceagent.db.engine import Sessions
from voiceagent.db.tables import CallRow, MessageRow, TransitionRow, TurnRow, utcnow
from voiceagent.observability import get_logger
from voiceagent.phone import mask_phone

LIVE_STATUSES = ("queued", "ringing", "in_progress")
MASK = "•"  # what mask_phone puts in place of digits: a masked number is a purged call
BATCH = 200  # calls per transaction: row locks stay short while calls go on
FIRST_RUN_DELAY = 60.0  # seconds after start-up: not in the way of start-up itself
INTERVAL = 24 * 3600.0


@dataclass(frozen=True)
class PurgeReport:
    cutoff: datetime
    calls: int  # calls whose transcript and personal data were removed
    messages: int
    transitions: int
    turns: int

    def summary(self) -> dict[str, Any]:
        return {**asdict(self), "cutoff": self.cutoff.isoformat()}


async def purge(*, sessions: Sessions, days: int, now: datetime) -> PurgeReport:
    cutoff = now - timedelta(days=days)
    calls = messages = transitions = turns = 0
    after = ""
    while True:
        async with sessions() as session, session.begin():
            rows = await _next_batch(session, cutoff=cutoff, after=after)
            if not rows:
                break
            ids = [row.id for row in rows]
            messages += await _delete(session, MessageRow, ids)
            transitions += await _delete(session, TransitionRow, ids)
            turns += await _delete(session, TurnRow, ids)
            for row in rows:
                if MASK not in row.phone:
                    _anonymise(row)
                    calls += 1
            after = ids[-1]
    return PurgeReport(cutoff, calls, messages, transitions, turns)


async def run_daily(
    *,
    sessions: Sessions,
    days: int,
    first_delay: float = FIRST_RUN_DELAY,
    interval: float = INTERVAL,
    clock: Callable[[], datetime] = utcnow,
    log: Any = None,
) -> None:
    """Purge shortly after start-up, then every `interval` seconds, until cancelled."""
    log = log or get_logger()

    async def purge_old() -> None:
        report = await purge(sessions=sessions, days=days, now=clock())
        log.info("retention_purged", days=days, **report.summary())

    await every(interval, purge_old, first_delay=first_delay, name="retention", log=log)


async def _next_batch(session: AsyncSession, *, cutoff: datetime, after: str) -> Sequence[CallRow]:
    def has(table: type[MessageRow | TransitionRow | TurnRow]) -> Any:
        return exists().where(table.call_id == CallRow.id)

    query = (
        select(CallRow)
        .where(
            CallRow.created_at < cutoff,
            CallRow.status.not_in(LIVE_STATUSES),
            CallRow.id > after,  # keyset paging: each call is looked at once per run
            or_(~CallRow.phone.contains(MASK), has(MessageRow), has(TransitionRow), has(TurnRow)),
        )
        .order_by(CallRow.id)
        .limit(BATCH)
        # Locked before its children are deleted, in the order a turn takes them.
        .with_for_update()
    )
    return (await session.execute(query)).scalars().all()


async def _delete(
    session: AsyncSession, table: type[MessageRow | TransitionRow | TurnRow], ids: list[str]
) -> int:
    result = await session.execute(delete(table).where(table.call_id.in_(ids)))
    return int(getattr(result, "rowcount", 0) or 0)


def _anonymise(row: CallRow) -> None:
    masked = mask_phone(row.phone)
    if row.error:
        # Carrier errors quote the number ("The number +1415… is unverified").
        row.error = row.error.replace(row.phone, masked)
    row.phone = masked
    row.lead = {}
