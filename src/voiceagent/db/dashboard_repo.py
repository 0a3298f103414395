"""The dashboard's reads: filtered and paged calls with their turn figures, live rows, DNC rows.

Apart from `repo.py` because every query here exists for a screen (or the API's filtered list);
the call service's own reads stay there. Callers own the session: `calls/dashboard.py` opens it.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from voiceagent.db.tables import CallRow, DncRow, MessageRow, TransitionRow
from voiceagent.errors import InvalidPhoneNumber
from voiceagent.funnel import EndReason, Outcome, State
from voiceagent.phone import parse_phone

STATUSES = (
    "queued",
    "ringing",
    "in_progress",
    "completed",
    "transferred",
    "failed",
    "busy",
    "no_answer",
    "canceled",
)
ACTIVE_STATUSES = ("queued", "ringing", "in_progress")
OUTCOMES = (*(o.value for o in Outcome), "none")
END_REASONS = tuple(r.value for r in EndReason)
STATES = tuple(s.value for s in State)
KINDS = ("all", "test", "live")
# A call still "active" after this long lost its final callback (a crash, a lost webhook).
ACTIVE_WINDOW = timedelta(hours=2)
Kind = Literal["all", "test", "live"]


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def _choice(value: str | None, allowed: Collection[str]) -> str | None:
    return value if value in allowed else None


def _phone(value: str | None) -> str | None:
    try:
        return parse_phone(value[:32]) if value else None
    except InvalidPhoneNumber:
        return None


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class CallFilter:
    """The calls table's filters, parsed from and written back to the URL's query string."""

    status: str | None = None
    outcome: str | None = None
    end_reason: str | None = None
    state: str | None = None
    since: date | None = None
    until: date | None = None  # inclusive, a UTC day
    kind: Kind = "all"
    q: str = ""
    phone: str | None = None  # E.164, the whole number

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> CallFilter:
        # Unknown values are dropped, not refused: a stale bookmark still opens the page.
        kind: Kind = "test" if params.get("kind") == "test" else "all"
        if params.get("kind") == "live":
            kind = "live"
        return cls(
            status=_choice(params.get("status"), STATUSES),
            outcome=_choice(params.get("outcome"), OUTCOMES),
            end_reason=_choice(params.get("end_reason"), END_REASONS),
            state=_choice(params.get("state"), STATES),
            since=_day(params.get("since")),
            until=_day(params.get("until")),
            kind=kind,
            q=params.get("q", "").strip()[:64],
            phone=_phone(params.get("phone")),
        )

    @property
    def active(self) -> bool:
        return self != CallFilter()

    def query(self, **extra: str | int) -> str:
        pairs: dict[str, str | int] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if value not in (None, "", "all"):
                pairs[item.name] = value.isoformat() if isinstance(value, date) else value
        pairs.update(extra)
        return urlencode(pairs)

    def with_range(self, since: date, until: date) -> CallFilter:
        return replace(self, since=self.since or since, until=self.until or until)

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.status:
            found.append(CallRow.status == self.status)
        if self.outcome == "none":
            found.append(CallRow.outcome.is_(None))
        elif self.outcome:
            found.append(CallRow.outcome == self.outcome)
        if self.end_reason:
            found.append(CallRow.end_reason == self.end_reason)
        if self.state:
            found.append(CallRow.state == self.state)
        if self.since:
            found.append(CallRow.created_at >= datetime.combine(self.since, time(), UTC))
        if self.until and self.until < date.max:  # the last day there is bounds nothing
            end = datetime.combine(self.until + timedelta(days=1), time(), UTC)
            found.append(CallRow.created_at < end)
        if self.kind != "all":
            found.append(CallRow.is_test.is_(self.kind == "test"))
        if self.q:
            found.append(_search(self.q))
        if self.phone:
            found.append(CallRow.phone == self.phone)
        return found


def _search(text: str) -> ColumnElement[bool]:
    """Digits match anywhere in the number; otherwise an id prefix or a Twilio sid."""
    digits = re.sub(r"\D", "", text)
    options: list[ColumnElement[bool]] = [
        CallRow.id.startswith(text.lower(), autoescape=True),
        CallRow.twilio_sid == text,
    ]
    if len(digits) >= 3 and re.fullmatch(r"[\d\s()+.-]+", text):
        options.append(CallRow.phone.contains(digits, autoescape=True))
    return or_(*options)


@dataclass(frozen=True)
class CallLine:
    """One row of the calls table."""

    call: CallRow
    turns: int
    median_ms: float | None


async def _lines(session: AsyncSession, rows: Sequence[CallRow]) -> list[CallLine]:
    # One query for every row's agent turns; the median is taken here, as SQLite has none.
    latencies: dict[str, list[float]] = defaultdict(list)
    turns: dict[str, int] = defaultdict(int)
    if rows:
        query = select(MessageRow.call_id, MessageRow.latency_ms).where(
            MessageRow.call_id.in_([r.id for r in rows]), MessageRow.role == "agent"
        )
        for call_id, latency in (await session.execute(query)).all():
            turns[call_id] += 1
            if latency is not None:
                latencies[call_id].append(latency)
    return [CallLine(r, turns[r.id], median(latencies[r.id])) for r in rows]


def _filtered(flt: CallFilter) -> Select[CallRow]:
    return select(CallRow).where(*flt.conditions())


async def list_calls(
    *, session: AsyncSession, flt: CallFilter, limit: int, offset: int
) -> tuple[list[CallLine], int]:
    count = select(func.count()).select_from(CallRow).where(*flt.conditions())
    total = (await session.execute(count)).scalar_one()
    query = _filtered(flt).order_by(CallRow.created_at.desc(), CallRow.id).limit(limit)
    rows = (await session.execute(query.offset(offset))).scalars().all()
    return await _lines(session, rows), total


async def list_calls_batch(
    *, session: AsyncSession, flt: CallFilter, after: tuple[datetime, str] | None, size: int
) -> list[CallLine]:
    """Keyset paging for exports: stable while new calls keep arriving at the top."""
    query = _filtered(flt)
    if after is not None:
        at, call_id = after
        query = query.where(
            or_(CallRow.created_at < at, (CallRow.created_at == at) & (CallRow.id > call_id))
        )
    query = query.order_by(CallRow.created_at.desc(), CallRow.id).limit(size)
    return await _lines(session, (await session.execute(query)).scalars().all())


async def list_active(*, session: AsyncSession, now: datetime) -> list[CallLine]:
    query = (
        select(CallRow)
        .where(CallRow.status.in_(ACTIVE_STATUSES), CallRow.created_at >= now - ACTIVE_WINDOW)
        .order_by(CallRow.created_at.desc())
        .limit(100)
    )
    return await _lines(session, (await session.execute(query)).scalars().all())


async def messages_after(*, session: AsyncSession, call_id: str, seq: int) -> Sequence[MessageRow]:
    query = (
        select(MessageRow)
        .where(MessageRow.call_id == call_id, MessageRow.seq > seq)
        .order_by(MessageRow.seq)
    )
    return (await session.execute(query)).scalars().all()


async def find_calls(
    *, session: AsyncSession, flt: CallFilter, limit: int, offset: int
) -> tuple[Sequence[CallRow], int]:
    """The API's list: the dashboard's filters, newest first, without the table's figures."""
    count = select(func.count()).select_from(CallRow).where(*flt.conditions())
    total = (await session.execute(count)).scalar_one()
    query = _filtered(flt).order_by(CallRow.created_at.desc(), CallRow.id).limit(limit)
    return (await session.execute(query.offset(offset))).scalars().all(), total


async def list_dnc(
    *, session: AsyncSession, q: str, limit: int, offset: int
) -> tuple[Sequence[DncRow], int]:
    digits = re.sub(r"\D", "", q)
    where = [DncRow.phone.contains(digits, autoescape=True)] if digits else []
    total = (await session.execute(select(func.count()).select_from(DncRow).where(*where))).scalar()
    query = select(DncRow).where(*where).order_by(DncRow.created_at.desc(), DncRow.phone)
    rows = (await session.execute(query.limit(limit).offset(offset))).scalars().all()
    return rows, int(total or 0)


async def blocked_among(*, session: AsyncSession, phones: Collection[str]) -> set[str]:
    query = select(DncRow.phone).where(DncRow.phone.in_(list(phones)))
    return set((await session.execute(query)).scalars().all())


@dataclass(frozen=True)
class Snapshot:
    """Where a call stands: what the status panel, the stepper and the timeline show."""

    call: CallRow
    transitions: Sequence[TransitionRow]
    last_intent: str | None
    last_agent: MessageRow | None

    @property
    def reached(self) -> frozenset[str]:
        return frozenset({State.INIT.value, *(t.to_state for t in self.transitions)})

    @classmethod
    def of(cls, call: CallRow) -> Snapshot:
        """From a call loaded with its messages and transitions."""
        callers = [m for m in call.messages if m.role == "caller"]
        agents = [m for m in call.messages if m.role == "agent"]
        return cls(
            call,
            call.transitions,
            callers[-1].intent if callers else None,
            agents[-1] if agents else None,
        )


async def snapshot(*, session: AsyncSession, call_id: str) -> Snapshot | None:
    call = await session.get(CallRow, call_id, populate_existing=True)
    if call is None:
        return None
    moves = select(TransitionRow).where(TransitionRow.call_id == call_id)
    transitions = (await session.execute(moves.order_by(TransitionRow.seq))).scalars().all()
    latest: dict[str, MessageRow] = {}
    for role in ("caller", "agent"):
        query = (
            select(MessageRow)
            .where(MessageRow.call_id == call_id, MessageRow.role == role)
            .order_by(MessageRow.seq.desc())
            .limit(1)
        )
        found = (await session.execute(query)).scalar_one_or_none()
        if found is not None:
            latest[role] = found
    caller = latest.get("caller")
    return Snapshot(call, transitions, caller.intent if caller else None, latest.get("agent"))
