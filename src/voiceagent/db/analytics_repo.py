"""Analytics figures: KPIs, the funnel from stored transitions, breakdowns, and per-day series.

Counts are aggregated in SQL; turn-latency percentiles are computed here because SQLite has no
percentile function. Days are UTC days, on both backends.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, case, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from voiceagent.db.dashboard_repo import CallFilter
from voiceagent.db.tables import CallRow, MessageRow, TransitionRow
from voiceagent.funnel import State

CONVERTED = "converted"
FUNNEL_STEPS = (*(s.value for s in State if s is not State.END), CONVERTED)


@dataclass(frozen=True)
class Kpis:
    calls: int
    connected: int
    converted: int
    average_duration: float | None

    @property
    def connect_rate(self) -> float | None:
        return self.connected / self.calls if self.calls else None

    @property
    def conversion(self) -> float | None:
        """Converted calls per connected call: a call nobody answered had no chance to convert."""
        return self.converted / self.connected if self.connected else None


@dataclass(frozen=True)
class FunnelStep:
    state: str
    reached: int
    rate: float | None  # of the calls that reached the step before
    dropped: int


@dataclass(frozen=True)
class DayLatency:
    day: date
    p50: float
    p90: float
    turns: int


@dataclass(frozen=True)
class Analytics:
    kpis: Kpis
    funnel: list[FunnelStep]
    outcomes: list[tuple[str, int]]
    end_reasons: list[tuple[str, int]]
    status_by_day: list[tuple[date, dict[str, int]]]
    latency_by_day: list[DayLatency]


def _day_of(session: AsyncSession, column: Any) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)  # SQLite keeps UTC text; date() takes its day


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def percentiles(values: list[float]) -> tuple[float, float]:
    """(p50, p90), interpolated between the nearest values."""
    if len(values) == 1:
        return values[0], values[0]
    deciles = statistics.quantiles(values, n=10, method="inclusive")
    return statistics.median(values), deciles[8]


async def kpis(session: AsyncSession, where: list[ColumnElement[bool]]) -> Kpis:
    query = select(
        func.count(),
        func.count(CallRow.answered_at),
        func.sum(case((CallRow.outcome == "converted", 1), else_=0)),
        func.avg(CallRow.duration_seconds),
    ).where(*where)
    calls, connected, converted, average = (await session.execute(query)).one()
    return Kpis(calls, connected, int(converted or 0), None if average is None else float(average))


async def funnel(
    session: AsyncSession, where: list[ColumnElement[bool]], figures: Kpis
) -> list[FunnelStep]:
    """INIT to CLOSE from the stored transitions, then the calls converted at CLOSE.

    END is not a step: every call that ends reaches it, from whichever state it ended in.
    """
    query = (
        select(TransitionRow.to_state, func.count(distinct(TransitionRow.call_id)))
        .join(CallRow, CallRow.id == TransitionRow.call_id)
        .where(*where)
        .group_by(TransitionRow.to_state)
    )
    reached: dict[str, int] = dict((await session.execute(query)).all())
    reached[State.INIT.value] = figures.calls  # every call starts in INIT; no transition says so
    reached[CONVERTED] = figures.converted
    steps: list[FunnelStep] = []
    previous: int | None = None
    for name in FUNNEL_STEPS:
        count = int(reached.get(name, 0))
        rate = None if previous is None else (count / previous if previous else None)
        dropped = 0 if previous is None else previous - count
        steps.append(FunnelStep(name, count, rate, dropped))
        previous = count
    return steps


async def breakdown(
    session: AsyncSession, where: list[ColumnElement[bool]], column: Any
) -> list[tuple[str, int]]:
    query = select(column, func.count()).where(*where).group_by(column)
    rows = [(str(value) if value else "none", int(n)) for value, n in await session.execute(query)]
    return sorted(rows, key=lambda item: (-item[1], item[0]))


async def status_by_day(
    session: AsyncSession, where: list[ColumnElement[bool]]
) -> list[tuple[date, dict[str, int]]]:
    day = _day_of(session, CallRow.created_at)
    query = select(day, CallRow.status, func.count()).where(*where).group_by(day, CallRow.status)
    days: dict[date, dict[str, int]] = defaultdict(dict)
    for value, status, n in await session.execute(query):
        days[_as_date(value)][status] = int(n)
    return sorted(days.items())


async def latency_by_day(
    session: AsyncSession, where: list[ColumnElement[bool]]
) -> list[DayLatency]:
    day = _day_of(session, MessageRow.created_at)
    query = (
        select(day, MessageRow.latency_ms)
        .join(CallRow, CallRow.id == MessageRow.call_id)
        .where(*where, MessageRow.role == "agent", MessageRow.latency_ms.is_not(None))
    )
    values: dict[date, list[float]] = defaultdict(list)
    for value, latency in await session.execute(query):
        values[_as_date(value)].append(float(latency))
    result = []
    for each, found in sorted(values.items()):
        p50, p90 = percentiles(found)
        result.append(DayLatency(each, p50, p90, len(found)))
    return result


async def analytics(*, session: AsyncSession, flt: CallFilter) -> Analytics:
    where = flt.conditions()
    figures = await kpis(session, where)
    return Analytics(
        kpis=figures,
        funnel=await funnel(session, where, figures),
        outcomes=await breakdown(session, where, CallRow.outcome),
        end_reasons=await breakdown(session, where, CallRow.end_reason),
        status_by_day=await status_by_day(session, where),
        latency_by_day=await latency_by_day(session, where),
    )
