"""Run the schema migrations (Alembic) from code: on start-up and by `voiceagent db upgrade`.

No alembic.ini is needed: the configuration is built here and points at the migrations shipped
inside the package. On PostgreSQL a session advisory lock serialises the upgrade, so several
instances starting at once migrate once and the others find the schema at head.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from voiceagent.errors import ConfigError

MIGRATIONS = Path(__file__).with_name("migrations")
# Any constant shared by every instance; "voiceagt" in ASCII, to be recognisable in pg_locks.
ADVISORY_LOCK_KEY = 0x766F696365616774
# The tables `create_all` made before migrations existed; such a database is at 0001.
_INITIAL_TABLES = frozenset({"calls", "turns", "messages", "transitions", "dnc"})
_BASELINE = "0001"


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration without a file; also for `alembic revision` during development."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the migrations directory has no revisions"
    return head


async def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision` (default: the newest)."""
    engine = _engine(url)
    try:
        await upgrade_engine(engine, revision)
    finally:
        await engine.dispose()


async def downgrade(url: str, revision: str) -> None:
    """Step the schema back to `revision` (tests and emergencies; rows in dropped columns go)."""
    engine = _engine(url)
    try:
        async with engine.connect() as conn, _locked(conn):
            await conn.run_sync(lambda sync: command.downgrade(alembic_config(sync), revision))
    finally:
        await engine.dispose()


async def upgrade_engine(engine: AsyncEngine, revision: str = "head") -> None:
    """Upgrade through an engine the caller owns (the app's, so no second pool is made)."""
    async with engine.connect() as conn, _locked(conn):
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # A table that batch mode recreates must not cascade its drop into its children.
            await conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            # SQLite's write lock, taken up front: a second process waits (busy timeout) and
            # then finds the schema at head; the upgrade is one transaction, all or nothing.
            await conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            await conn.run_sync(_upgrade, revision)
        finally:
            if sqlite:  # the app's pooled connections expect foreign keys on
                await conn.rollback()
                await conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                await conn.commit()


async def current_revision(url: str) -> str | None:
    """The revision the database is at; None for an empty database."""
    engine = _engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_current)
    finally:
        await engine.dispose()


def _engine(url: str) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(str(parsed.database)).parent.mkdir(parents=True, exist_ok=True)
    # One short-lived connection: the advisory lock lives exactly as long as it does.
    if parsed.get_backend_name() == "sqlite":
        return create_async_engine(url, poolclass=NullPool, connect_args={"timeout": 30})
    return create_async_engine(url, poolclass=NullPool)


class _locked:
    """Hold the PostgreSQL advisory lock for the upgrade; a no-op elsewhere."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"

    async def __aenter__(self) -> None:
        if self.postgres:
            await self.conn.execute(select(func.pg_advisory_lock(ADVISORY_LOCK_KEY)))
            # Ends the implicit transaction; the session-level lock outlives it.
            await self.conn.commit()

    async def __aexit__(self, *exc: object) -> None:
        await self.conn.rollback()  # whatever a failed migration left open
        if self.postgres:
            await self.conn.execute(select(func.pg_advisory_unlock(ADVISORY_LOCK_KEY)))
            await self.conn.commit()


def _upgrade(conn: Connection, revision: str) -> None:
    config = alembic_config(conn)
    if _current(conn) is None:
        tables = set(inspect(conn).get_table_names())
        if tables >= _INITIAL_TABLES:
            # Made by `create_all` before there were migrations: adopt it, keep its rows.
            command.stamp(config, _BASELINE)
            conn.commit()
        elif tables & _INITIAL_TABLES:
            raise ConfigError(
                "DATABASE_URL: the database has some of voiceagent's tables "
                f"({', '.join(sorted(tables & _INITIAL_TABLES))}) but no migration history; "
                "point DATABASE_URL at an empty database or a voiceagent one"
            )
    command.upgrade(config, revision)
    conn.commit()


def _current(conn: Connection) -> str | None:
    revision: Any = MigrationContext.configure(conn).get_current_revision()
    return str(revision) if revision is not None else None
