"""Calls: keyword-only, one verb per function. Callers own the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from voiceagent.db.tables import (
    CallRow,
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
