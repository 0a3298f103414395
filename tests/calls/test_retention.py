"""Retention: old transcripts go, outcomes and timings stay, live calls and DNC entries stay."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.conftest import until

from voiceagent.calls.retention import PurgeReport, purge, run_daily
from voiceagent.db import dnc_repo, migrate
from voiceagent.db.engine import Sessions, create_engine, create_sessions
from voiceagent.db.tables import CallRow, DncRow, MessageRow, TransitionRow, TurnRow
from voiceagent.phone import mask_phone

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DAYS = 90
OLD = NOW - timedelta(days=DAYS, seconds=1)
RECENT = NOW - timedelta(days=DAYS - 1)

# (call id, created, status, phone): what each call is, and whether the purge may touch it.
CALLS = [
    ("old-done", OLD, "completed", "+14155550101", True),
    ("old-busy", OLD, "busy", "+14155550102", True),
    ("old-live", OLD, "in_progress", "+14155550103", False),
    ("old-ringing", OLD, "ringing", "+14155550104", False),
    ("recent", RECENT, "completed", "+14155550105", False),
]


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[Sessions]:
    await migrate.upgrade(database_url)
    engine = create_engine(database_url)
    yield create_sessions(engine)
    await engine.dispose()


async def _seed(sessions: Sessions) -> None:
    async with sessions() as session, session.begin():
        for call_id, created, status, phone, _ in CALLS:
            session.add(
                CallRow(
                    id=call_id,
                    phone=phone,
                    lead={"name": "Ann Example", "company": "Acme"},
                    telephony="twilio",
                    is_test=False,
                    status=status,
                    state="END",
                    end_reason="completed",
                    outcome="converted",
                    twilio_sid=f"CA-{call_id}",
                    duration_seconds=61,
                    error=f"The number {phone} is unverified",
                    created_at=created,
                    answered_at=created + timedelta(seconds=5),
                    ended_at=created + timedelta(seconds=66),
                )
            )
            await session.flush()
            session.add(TurnRow(call_id=call_id, number=0, twiml="<Response/>", created_at=created))
            for seq, role in enumerate(("agent", "caller"), start=1):
                session.add(
                    MessageRow(
                        call_id=call_id, seq=seq, role=role, text="hi", state="INTRO", stages={}
                    )
                )
            session.add(TransitionRow(call_id=call_id, seq=1, from_state="INIT", to_state="INTRO"))
        await dnc_repo.block_number(
            session=session, phone="+14155550101", source="caller_request", call_id="old-done"
        )


async def _count(sessions: Sessions, table: Any, call_id: str) -> int:
    async with sessions() as session:
        query = select(func.count()).select_from(table).where(table.call_id == call_id)
        return int((await session.execute(query)).scalar_one())


async def test_purge_removes_old_transcripts_and_personal_data_only(sessions: Sessions) -> None:
    await _seed(sessions)

    report = await purge(sessions=sessions, days=DAYS, now=NOW)

    assert report == PurgeReport(
        cutoff=NOW - timedelta(days=DAYS), calls=2, messages=4, transitions=2, turns=2
    )
    async with sessions() as session:
        calls = {row.id: row for row in (await session.execute(select(CallRow))).scalars()}
        dnc = (await session.execute(select(DncRow))).scalars().all()
    for call_id, created, status, phone, purged in CALLS:
        row = calls[call_id]
        left = [await _count(sessions, t, call_id) for t in (MessageRow, TransitionRow, TurnRow)]
        assert left == ([0, 0, 0] if purged else [2, 1, 1])
        # What reports need survives either way.
        assert (row.status, row.state, row.end_reason, row.outcome) == (
            status,
            "END",
            "completed",
            "converted",
        )
        assert (row.created_at, row.duration_seconds) == (created, 61)
        assert row.ended_at == created + timedelta(seconds=66)
        if purged:
            assert row.phone == mask_phone(phone)
            assert row.lead == {}
            assert phone not in (row.error or "")
        else:
            assert (row.phone, row.lead["name"]) == (phone, "Ann Example")
    assert [(e.phone, e.source, e.call_id) for e in dnc] == [
        ("+14155550101", "caller_request", "old-done")
    ]


async def test_purge_twice_finds_nothing_the_second_time(sessions: Sessions) -> None:
    await _seed(sessions)
    await purge(sessions=sessions, days=DAYS, now=NOW)
    again = await purge(sessions=sessions, days=DAYS, now=NOW)
    assert (again.calls, again.messages, again.transitions, again.turns) == (0, 0, 0, 0)


@pytest.mark.parametrize(("days", "calls"), [(1, 3), (DAYS, 2), (DAYS + 1, 0)])
async def test_the_cutoff_follows_retention_days(sessions: Sessions, days: int, calls: int) -> None:
    await _seed(sessions)
    assert (await purge(sessions=sessions, days=days, now=NOW)).calls == calls


async def test_many_calls_are_purged_in_batches(sessions: Sessions) -> None:
    async with sessions() as session, session.begin():
        for n in range(450):  # more than two batches
            session.add(
                CallRow(
                    id=f"bulk-{n:04d}",
                    phone="+14155550199",
                    lead={"n": n},
                    telephony="simulated",
                    status="completed",
                    state="END",
                    created_at=OLD,
                )
            )
    report = await purge(sessions=sessions, days=DAYS, now=NOW)
    assert report.calls == 450


class _Clock:
    """A clock whose first reading fails, so the job has to survive a failed run."""

    def __init__(self) -> None:
        self.readings = 0

    def __call__(self) -> datetime:
        self.readings += 1
        if self.readings == 1:
            raise RuntimeError("clock not ready")
        return NOW


async def test_daily_job_survives_a_failed_run_and_stops_when_cancelled(
    sessions: Sessions,
) -> None:
    await _seed(sessions)
    clock = _Clock()
    job = asyncio.create_task(
        run_daily(sessions=sessions, days=DAYS, first_delay=0, interval=0.01, clock=clock)
    )

    async def purged_three_times() -> bool:
        return await _count(sessions, MessageRow, "old-done") == 0 and clock.readings >= 3

    await until(purged_three_times, what="three runs of the purge")
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    assert clock.readings >= 3
    assert await _count(sessions, MessageRow, "old-done") == 0
    assert await _count(sessions, MessageRow, "recent") == 2
