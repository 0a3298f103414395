"""Dashboard logins revoked at logout, kept in the database so every instance refuses them."""

from __future__ import annotations

from datetime import datetime

from voiceagent.calls.context import Context
from voiceagent.db import access_repo


class Revocations:
    def __init__(self, ctx: Context) -> None:
        self._sessions = ctx.sessions

    async def is_revoked(self, session_id: str) -> bool:
        async with self._sessions() as session:
            return await access_repo.is_session_revoked(session=session, session_id=session_id)

    async def revoke(self, session_id: str, *, expires_at: datetime) -> None:
        async with self._sessions() as session, session.begin():
            await access_repo.revoke_session(
                session=session, session_id=session_id, expires_at=expires_at
            )
