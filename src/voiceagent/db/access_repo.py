"""Dashboard logins revoked at logout. Callers own the transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from voiceagent.db.tables import (
    RevokedSessionRow,
    utcnow,
)


async def is_session_revoked(*, session: AsyncSession, session_id: str) -> bool:
    return await session.get(RevokedSessionRow, session_id) is not None


async def revoke_session(*, session: AsyncSession, session_id: str, expires_at: datetime) -> None:
    # Expired sessions are refused by their own expiry: their rows can go.
    await session.execute(delete(RevokedSessionRow).where(RevokedSessionRow.expires_at < utcnow()))
    if await session.get(RevokedSessionRow, session_id) is None:
        session.add(RevokedSessionRow(session_id=session_id, expires_at=expires_at))
