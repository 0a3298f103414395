"""A call's turns, messages and transitions: keyword-only, one verb per function. Callers own
the transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from voiceagent.db.tables import (
    MessageRow,
    TransitionRow,
    TurnRow,
)


async def get_turn(*, session: AsyncSession, call_id: str, number: int) -> TurnRow | None:
    query = select(TurnRow).where(TurnRow.call_id == call_id, TurnRow.number == number)
    return (await session.execute(query)).scalar_one_or_none()


async def count_turns(*, session: AsyncSession, call_id: str) -> int:
    query = select(func.count()).select_from(TurnRow).where(TurnRow.call_id == call_id)
    return (await session.execute(query)).scalar_one()


async def list_messages(*, session: AsyncSession, call_id: str) -> Sequence[MessageRow]:
    query = select(MessageRow).where(MessageRow.call_id == call_id).order_by(MessageRow.seq)
    return (await session.execute(query)).scalars().all()


async def last_agent_message(*, session: AsyncSession, call_id: str) -> MessageRow | None:
    query = (
        select(MessageRow)
        .where(MessageRow.call_id == call_id, MessageRow.role == "agent")
        .order_by(MessageRow.seq.desc())
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def get_message_by_audio_id(*, session: AsyncSession, audio_id: str) -> MessageRow | None:
    query = select(MessageRow).where(MessageRow.audio_id == audio_id)
    return (await session.execute(query)).scalar_one_or_none()


async def next_transition_seq(*, session: AsyncSession, call_id: str) -> int:
    query = select(func.max(TransitionRow.seq)).where(TransitionRow.call_id == call_id)
    return int((await session.execute(query)).scalar_one() or 0) + 1


async def next_message_seq(*, session: AsyncSession, call_id: str) -> int:
    query = select(func.max(MessageRow.seq)).where(MessageRow.call_id == call_id)
    return int((await session.execute(query)).scalar_one() or 0) + 1
