"""Versioned migrations on both backends: fresh, from the previous revision, adopted, concurrent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, Table, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from sqlalchemy.pool import NullPool

from voiceagent.db import migrate
from voiceagent.db.tables import Base
from voiceagent.errors import ConfigError

AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
CALL = {
    "id": "c1",
    "phone": "+14155550101",
    "lead": {"name": "Ann"},
    "telephony": "simulated",
    "is_test": True,
    "status": "completed",
    "state": "END",
    "end_reason": "completed",
    "outcome": "converted",
    "twilio_sid": "CA1",
    "idempotency_key": "k1",
    "progress": {"state": "END", "question": 2},
    "status_sequence": 3,
    "duration_seconds": 42,
    "error": None,
    "created_at": AT,
    "answered_at": AT,
    "ended_at": AT,
    "updated_at": AT,
}
# Rows as they were at 0001, for every table: an upgrade must keep each of them.
ROWS_AT_0001: dict[str, list[dict[str, Any]]] = {
    "calls": [CALL, {**CALL, "id": "c2", "twilio_sid": None, "idempotency_key": None}],
    "turns": [
        {
            "id": 1,
            "call_id": "c1",
            "number": 0,
            "status": "ready",
            "twiml": "<Response/>",
            "created_at": AT,
            "ready_at": AT,
        },
        {
            "id": 2,
            "call_id": "c1",
            "number": 1,
            "status": "pending",
            "twiml": "",
            "created_at": AT,
            "ready_at": None,
        },
    ],
    "messages": [
        {
            "id": 1,
            "call_id": "c1",
            "seq": 1,
            "role": "agent",
            "text": "Hi, this is Sam.",
            "state": "INTRO",
            "intent": None,
            "latency_ms": 12.5,
            "stages": {"llm": 3.0},
            "audio_id": "a1",
            "created_at": AT,
        },
        {
            "id": 2,
            "call_id": "c1",
            "seq": 2,
            "role": "caller",
            "text": "Sure.",
            "state": "INTRO",
            "intent": "interested",
            "latency_ms": None,
            "stages": {},
            "audio_id": None,
            "created_at": AT,
        },
    ],
    "transitions": [
        {
            "id": 1,
            "call_id": "c1",
            "seq": 1,
            "from_state": "INIT",
            "to_state": "INTRO",
            "intent": None,
            "at": AT,
        },
    ],
    "dnc": [
        {"phone": "+14155550106", "source": "caller_request", "call_id": "c1", "created_at": AT},
        {"phone": "+14155550107", "source": "import", "call_id": None, "created_at": AT},
        {"phone": "+14155550108", "source": "crm-sync", "call_id": None, "created_at": AT},
    ],
}


@asynccontextmanager
async def connect(url: str) -> AsyncIterator[AsyncConnection]:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            yield conn
    finally:
        await engine.dispose()


def _reflect(conn: Connection, name: str) -> Table:
    return Table(name, MetaData(), autoload_with=conn)


async def seed(url: str, rows: dict[str, list[dict[str, Any]]]) -> None:
    async with connect(url) as conn:
        for name, values in rows.items():
            table = await conn.run_sync(_reflect, name)
            await conn.execute(table.insert(), values)
        await conn.commit()


async def read_all(url: str, name: str, key: str) -> list[dict[str, Any]]:
    async with connect(url) as conn:
        table = await conn.run_sync(_reflect, name)
        result = await conn.execute(select(table).order_by(table.c[key]))
        return [dict(row._mapping) for row in result]


def _same_instant(value: Any) -> Any:
    # SQLite hands back the naive UTC value it stored; PostgreSQL an aware one.
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _kept(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {column: _same_instant(after[column]) for column in before}


async def test_empty_database_has_no_revision_and_upgrades_to_head(database_url: str) -> None:
    assert await migrate.current_revision(database_url) is None
    await migrate.upgrade(database_url)
    assert await migrate.current_revision(database_url) == migrate.head_revision()


async def test_migrated_schema_is_exactly_the_tables_module(database_url: str) -> None:
    await migrate.upgrade(database_url)

    def differences(conn: Connection) -> list[Any]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with connect(database_url) as conn:
        assert await conn.run_sync(differences) == []


@pytest.mark.parametrize("target", ["0002", "head"])
async def test_upgrade_from_0001_keeps_every_row(database_url: str, target: str) -> None:
    await migrate.upgrade(database_url, "0001")
    await seed(database_url, ROWS_AT_0001)
    await migrate.upgrade(database_url, target)

    keys = {"calls": "id", "dnc": "phone"}
    for name, before in ROWS_AT_0001.items():
        after = await read_all(database_url, name, keys.get(name, "id"))
        assert len(after) == len(before), name
        for old, new in zip(before, after, strict=True):
            if name == "dnc" and old["source"] == "crm-sync":
                assert new["source"] == "operator"
                assert new["note"] == "source before 0002: crm-sync"
            else:
                assert _kept(old, new) == old, name
    entries = await read_all(database_url, "dnc", "phone")
    assert [e["note"] for e in entries[:2]] == [None, None]


@pytest.mark.parametrize(
    ("source", "accepted"),
    [("caller_request", True), ("import", True), ("operator", True), ("crm-sync", False)],
)
async def test_dnc_source_is_one_of_the_known_ones(
    database_url: str, source: str, accepted: bool
) -> None:
    await migrate.upgrade(database_url)
    row = {"phone": "+14155550199", "source": source, "call_id": None, "created_at": AT}
    if accepted:
        await seed(database_url, {"dnc": [row]})
    else:
        with pytest.raises(IntegrityError, match=r"(?i)check"):
            await seed(database_url, {"dnc": [row]})


async def test_database_made_before_migrations_is_adopted_with_its_rows(
    database_url: str,
) -> None:
    await migrate.upgrade(database_url, "0001")
    async with connect(database_url) as conn:  # what create_all left: tables, no history
        await conn.execute(text("DROP TABLE alembic_version"))
        await conn.commit()
    await seed(database_url, ROWS_AT_0001)

    await migrate.upgrade(database_url)

    assert await migrate.current_revision(database_url) == migrate.head_revision()
    assert len(await read_all(database_url, "messages", "id")) == 2
    assert len(await read_all(database_url, "dnc", "phone")) == 3


async def test_foreign_tables_without_history_are_refused(database_url: str) -> None:
    async with connect(database_url) as conn:
        await conn.execute(text("CREATE TABLE calls (id VARCHAR(36) PRIMARY KEY)"))
        await conn.commit()
    with pytest.raises(ConfigError, match=r"DATABASE_URL.*no migration history"):
        await migrate.upgrade(database_url)


async def test_instances_starting_at_once_migrate_once(database_url: str) -> None:
    await asyncio.gather(*(migrate.upgrade(database_url) for _ in range(6)))
    assert await migrate.current_revision(database_url) == migrate.head_revision()

    def tables(conn: Connection) -> set[str]:
        return set(inspect(conn).get_table_names())

    async with connect(database_url) as conn:
        assert {"calls", "turns", "messages", "transitions", "dnc"} <= await conn.run_sync(tables)


async def test_downgrade_to_base_and_up_again(database_url: str) -> None:
    await migrate.upgrade(database_url)
    await migrate.downgrade(database_url, "base")
    assert await migrate.current_revision(database_url) is None
    await migrate.upgrade(database_url)
    assert await migrate.current_revision(database_url) == migrate.head_revision()


async def test_the_app_migrates_on_start_up(live_app: Callable[..., Any]) -> None:
    async with live_app() as live:
        url = live.settings.database_url
        assert await migrate.current_revision(url) == migrate.head_revision()
