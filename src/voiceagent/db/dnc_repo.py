"""Do-not-call entries: keyword-only, one verb per function. Callers own the transaction.

The call path asks `is_blocked` before dialling and `block_number` when a caller asks; the DNC
API pages, notes, imports in bulk and removes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from voiceagent.db.tables import DncRow, utcnow


async def list_entries(
    *, session: AsyncSession, limit: int, offset: int
) -> tuple[Sequence[DncRow], int]:
    total = (await session.execute(select(func.count()).select_from(DncRow))).scalar_one()
    query = (
        select(DncRow).order_by(DncRow.created_at.desc(), DncRow.phone).limit(limit).offset(offset)
    )
    return (await session.execute(query)).scalars().all(), total


async def get_entry(*, session: AsyncSession, phone: str) -> DncRow | None:
    return await session.get(DncRow, phone)


async def add_entries(
    *,
    session: AsyncSession,
    phones: Iterable[str],
    source: str,
    note: str | None,
    at: datetime,
    call_id: str | None = None,
) -> set[str]:
    """Insert the numbers not listed yet; return those this call added.

    ON CONFLICT DO NOTHING rather than read-then-insert: two operators (or instances) adding the
    same number at once both succeed, and the first entry keeps its source and time.
    """
    unique = list(dict.fromkeys(phones))
    if not unique:
        return set()
    rows = [
        {"phone": phone, "source": source, "call_id": call_id, "note": note, "created_at": at}
        for phone in unique
    ]
    # One statement with a list of rows: SQLAlchemy sends it as a few multi-row INSERTs
    # ("insertmanyvalues"), compiled once, ten times faster than `.values(rows)`, which
    # compiles a statement with thousands of bound parameters for every chunk.
    statement = (
        _insert(session).on_conflict_do_nothing(index_elements=["phone"]).returning(DncRow.phone)
    )
    return set((await session.execute(statement, rows)).scalars())


async def delete_entry(*, session: AsyncSession, phone: str) -> bool:
    result = await session.execute(delete(DncRow).where(DncRow.phone == phone))
    return bool(getattr(result, "rowcount", 0))


def _insert(session: AsyncSession) -> Any:
    # Both dialects spell "insert unless the key exists" the same way, from different modules.
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(DncRow)
    return sqlite.insert(DncRow)


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
