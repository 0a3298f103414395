"""Data access: keyword-only, one verb per function. Callers own the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from voiceagent.db.tables import (
    CallRow,
    DncRow,
    MessageRow,
    RevokedSessionRow,
    TransitionRow,
    TurnRow,
    utcnow,
)


async def create_call(
    *,
    session: AsyncSession,
    call_id: str,
    phone: str,
    lead: dict[str, Any],
    telephony: str,
    is_test: bool,
    idempotency_key: str | None,
    state: str,
    status: str,
) -> CallRow:
    row = CallRow(
        id=call_id,
        phone=phone,
        lead=lead,
        telephony=telephony,
        is_test=is_test,
        idempotency_key=idempotency_key,
        state=state,
        status=status,
        progress={},
    )
    session.add(row)
    await session.flush()
    return row


async def get_call(*, session: AsyncSession, call_id: str, lock: bool = False) -> CallRow | None:
    query = select(CallRow).where(CallRow.id == call_id)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def get_call_by_sid(*, session: AsyncSession, sid: str, lock: bool = False) -> CallRow | None:
    query = select(CallRow).where(CallRow.twilio_sid == sid)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def find_webhook_call(
    *, session: AsyncSession, call_id: str | None, sid: str, lock: bool = False
) -> CallRow | None:
    """The call a Twilio webhook is about: by our id in its URL, else by its CallSid.

    A webhook must come from the call we placed: a CallSid that differs from the stored one
    is not ours. Before Calls.create has returned, the sid may not be stored yet, so an unset
    one is accepted (and filled in by the turn).
    """
    if call_id:
        call = await get_call(session=session, call_id=call_id, lock=lock)
        if call is None or (call.twilio_sid and sid and call.twilio_sid != sid):
            return None
        return call
    return await get_call_by_sid(session=session, sid=sid, lock=lock) if sid else None


async def get_call_by_idempotency_key(*, session: AsyncSession, key: str) -> CallRow | None:
    query = select(CallRow).where(CallRow.idempotency_key == key)
    return (await session.execute(query)).scalar_one_or_none()


async def get_call_detail(*, session: AsyncSession, call_id: str) -> CallRow | None:
    query = (
        select(CallRow)
        .where(CallRow.id == call_id)
        .options(selectinload(CallRow.messages), selectinload(CallRow.transitions))
    )
    return (await session.execute(query)).scalar_one_or_none()


async def list_calls(
    *, session: AsyncSession, limit: int, offset: int
) -> tuple[Sequence[CallRow], int]:
    total = (await session.execute(select(func.count()).select_from(CallRow))).scalar_one()
    query = (
        select(CallRow).order_by(CallRow.created_at.desc(), CallRow.id).limit(limit).offset(offset)
    )
    return (await session.execute(query)).scalars().all(), total


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


async def is_blocked(*, session: AsyncSession, phone: str) -> bool:
    return await session.get(DncRow, phone) is not None


async def block_number(
    *,
    session: AsyncSession,
    phone: str,
    source: str,
    call_id: str | None,
    at: datetime | None = None,
    note: str | None = None,
) -> DncRow:
    existing = await session.get(DncRow, phone)
    if existing is not None:
        return existing
    row = DncRow(phone=phone, source=source, call_id=call_id, created_at=at or utcnow(), note=note)
    session.add(row)
    await session.flush()
    return row


async def is_session_revoked(*, session: AsyncSession, session_id: str) -> bool:
    return await session.get(RevokedSessionRow, session_id) is not None


async def revoke_session(*, session: AsyncSession, session_id: str, expires_at: datetime) -> None:
    # Expired sessions are refused by their own expiry: their rows can go.
    await session.execute(delete(RevokedSessionRow).where(RevokedSessionRow.expires_at < utcnow()))
    if await session.get(RevokedSessionRow, session_id) is None:
        session.add(RevokedSessionRow(session_id=session_id, expires_at=expires_at))
