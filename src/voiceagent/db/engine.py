"""The async engine and session factory, for SQLite (default) or PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from voiceagent.db.migrate import upgrade_engine

Sessions = async_sessionmaker[AsyncSession]


def create_engine(url: str) -> AsyncEngine:
    # hide_parameters: an error's message (and so its traceback in a log) never shows the
    # bound values, which hold phone numbers and transcripts.
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, hide_parameters=True)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            # WAL lets the dashboard read while a turn writes; foreign keys for cascades.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL still survives a crash of the process; it skips the fsync per
            # commit that FULL pays (a power cut may lose the last commits, not corrupt them).
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_async_engine(
        url, pool_size=10, max_overflow=20, pool_pre_ping=True, hide_parameters=True
    )


def create_sessions(engine: AsyncEngine) -> Sessions:
    if engine.url.get_backend_name() != "sqlite":
        return async_sessionmaker(engine, expire_on_commit=False)
    return async_sessionmaker(
        engine,
        class_=SerialWriteSession,
        expire_on_commit=False,
        info={_WRITE_LOCK: asyncio.Lock()},
    )


_WRITE_LOCK = "voiceagent.write_lock"


class SerialWriteSession(AsyncSession):
    """SQLite allows one writer at a time, and a writer that finds the file locked sleeps in
    growing steps (up to 100 ms) before it tries again. With many calls at once those sleeps
    become the latency, so this process queues its own writers instead: `session.begin()`
    waits for an asyncio lock, and the transaction it starts never meets a locked file from
    this process. Reads take no lock (WAL readers never block the writer)."""

    def begin(self) -> Any:
        transaction = super().begin()
        lock = self.info.get(_WRITE_LOCK)
        return transaction if lock is None else _Serialised(transaction, lock)


class _Serialised:
    def __init__(self, transaction: Any, lock: asyncio.Lock) -> None:
        self._transaction, self._lock = transaction, lock

    async def __aenter__(self) -> Any:
        await self._lock.acquire()
        try:
            return await self._transaction.__aenter__()
        except BaseException:
            self._lock.release()
            raise

    async def __aexit__(self, *exc: Any) -> Any:
        try:
            return await self._transaction.__aexit__(*exc)
        finally:
            self._lock.release()


async def create_schema(engine: AsyncEngine) -> None:
    await upgrade_engine(engine)  # versioned migrations (db/migrations), not create_all
