"""Calls that went quiet are finalised with the reason (issue 9, item 13)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from voiceagent.calls.stale import finalise_stale
from voiceagent.db import migrate
from voiceagent.db.engine import Sessions, create_engine, create_sessions
from voiceagent.db.tables import CallRow, MessageRow

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
IDLE = timedelta(minutes=30)
QUIET = NOW - IDLE - timedelta(seconds=1)
BUSY = NOW - timedelta(minutes=5)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[Sessions]:
    await migrate.upgrade(database_url)
    engine = create_engine(database_url)
    yield create_sessions(engine)
    await engine.dispose()


async def _seed(sessions: Sessions) -> None:
    # (id, status, last write to the call row, last message or None)
    calls = [
        ("quiet-talking", "in_progress", QUIET, QUIET),
        ("quiet-ringing", "ringing", QUIET, None),
        ("quiet-queued", "queued", QUIET, None),
        ("talking", "in_progress", QUIET, BUSY),  # the row is old, a message is recent
        ("ringing", "ringing", BUSY, None),
        ("done", "completed", QUIET, QUIET),
    ]
    async with sessions() as session, session.begin():
        for call_id, status, updated, message_at in calls:
            session.add(
                CallRow(
                    id=call_id,
                    phone="+14155550101",
                    lead={},
                    telephony="simulated",
                    status=status,
                    state="QUALIFY",
                    created_at=QUIET - timedelta(minutes=1),
                    updated_at=updated,
                )
            )
            await session.flush()
            if message_at is not None:
                session.add(
                    MessageRow(
                        call_id=call_id,
                        seq=1,
                        role="agent",
                        text="hi",
                        state="QUALIFY",
                        stages={},
                        created_at=message_at,
                    )
                )


async def test_quiet_live_calls_are_finalised_with_the_reason(sessions: Sessions) -> None:
    await _seed(sessions)
    ended = await finalise_stale(sessions=sessions, idle=IDLE, now=NOW)
    again = await finalise_stale(sessions=sessions, idle=IDLE, now=NOW)
    async with sessions() as session:
        rows = {row.id: row for row in (await session.execute(select(CallRow))).scalars()}
    assert sorted(ended) == ["quiet-queued", "quiet-ringing", "quiet-talking"]
    assert again == []
    talking = rows["quiet-talking"]
    assert (talking.status, talking.end_reason) == ("completed", "caller_hung_up")
    assert "no activity for 30 min" in (talking.error or "")
    assert talking.ended_at == NOW
    for call_id in ("quiet-ringing", "quiet-queued"):
        row = rows[call_id]
        assert (row.status, row.end_reason) == ("failed", "telephony_error")
        assert "30 min" in (row.error or "")
    assert rows["talking"].status == "in_progress"
    assert rows["ringing"].status == "ringing"
    assert rows["done"].end_reason is None
