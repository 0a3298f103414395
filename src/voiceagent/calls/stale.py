"""Calls that went quiet: a live call with no activity past a window is finalised.

A terminal closed during `voiceagent call -i`, a lost final callback, an instance killed between
turns: the call would otherwise stay `in_progress` for ever, on the Live page, in analytics, and
out of retention's reach. Activity is anything written for the call: the call row itself (every
turn and callback updates it), a message, a turn. A call that was answered ends as
`caller_hung_up`, one never answered as `telephony_error`; `error` says why.

Idempotent, like retention: several instances may each run the job against one database.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, select

from voiceagent.calls.periodic import every
from voiceagent.db.engine import Sessions
from voiceagent.db.tables import CallRow, MessageRow, TurnRow, utcnow
from voiceagent.funnel import EndReason
from voiceagent.observability import get_logger

LIVE_STATUSES = ("queued", "ringing", "in_progress")
FIRST_RUN_DELAY = 60.0
INTERVAL = 60.0


async def finalise_stale(*, sessions: Sessions, idle: timedelta, now: datetime) -> list[str]:
    """End every live call quiet since `now - idle`; return their ids."""
    cutoff = now - idle
    minutes = round(idle.total_seconds() / 60)
    async with sessions() as session, session.begin():
        query = (
            select(CallRow)
            .where(
                CallRow.status.in_(LIVE_STATUSES),
                CallRow.updated_at < cutoff,
                ~exists().where(MessageRow.call_id == CallRow.id, MessageRow.created_at >= cutoff),
                ~exists().where(TurnRow.call_id == CallRow.id, TurnRow.created_at >= cutoff),
            )
            .limit(500)
            .with_for_update(skip_locked=True)  # a call mid-turn is not quiet
        )
        rows = (await session.execute(query)).scalars().all()
        for row in rows:
            if row.status == "in_progress":
                row.status, row.end_reason = "completed", EndReason.CALLER_HUNG_UP.value
                row.error = f"no activity for {minutes} min: the final callback never came"
            else:
                row.status, row.end_reason = "failed", EndReason.TELEPHONY_ERROR.value
                row.error = f"no callback from the carrier for {minutes} min"
            row.ended_at = now
        return [row.id for row in rows]


async def run_periodically(
    *,
    sessions: Sessions,
    idle: timedelta,
    first_delay: float = FIRST_RUN_DELAY,
    interval: float = INTERVAL,
    clock: Callable[[], datetime] = utcnow,
    log: Any = None,
) -> None:
    log = log or get_logger()

    async def finalise() -> None:
        for call_id in await finalise_stale(sessions=sessions, idle=idle, now=clock()):
            log.warning("stale_call_finalised", call_id=call_id, idle_minutes=idle)

    await every(interval, finalise, first_delay=first_delay, name="stale_calls", log=log)
