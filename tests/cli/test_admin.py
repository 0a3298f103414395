"""`voiceagent purge` and `voiceagent db upgrade|current`, through Typer's test runner."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest
import typer
from typer.testing import CliRunner

from voiceagent.cli.admin import register
from voiceagent.db import migrate
from voiceagent.db.engine import create_engine, create_sessions
from voiceagent.db.tables import CallRow, MessageRow, utcnow

HEAD = migrate.head_revision()


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    monkeypatch.setenv("DATABASE_URL", database_url)
    app = typer.Typer()
    register(app)
    return app


def run(app: typer.Typer, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


async def _seed_old_call(url: str) -> None:
    engine = create_engine(url)
    try:
        async with create_sessions(engine)() as session, session.begin():
            session.add(
                CallRow(
                    id="old",
                    phone="+14155550101",
                    lead={"name": "Ann"},
                    telephony="simulated",
                    status="completed",
                    state="END",
                    created_at=utcnow() - timedelta(days=400),
                )
            )
            await session.flush()
            session.add(MessageRow(call_id="old", seq=1, role="agent", text="hi", state="INTRO"))
    finally:
        await engine.dispose()


def test_db_current_and_upgrade(cli: typer.Typer) -> None:
    steps = [
        (("db", "current"), "empty database"),
        (("db", "upgrade", "--revision", "0001"), "upgraded empty database -> 0001"),
        (("db", "current"), f"0001 (behind: newest is {HEAD}"),
        (("db", "upgrade"), f"upgraded 0001 -> {HEAD}"),
        (("db", "upgrade"), f"already at {HEAD}"),
        (("db", "current"), f"{HEAD} (head)"),
    ]
    for args, expected in steps:
        code, output = run(cli, *args)
        assert code == 0, output
        assert expected in output, (args, output)


def test_db_without_a_subcommand_shows_help(cli: typer.Typer) -> None:
    code, output = run(cli, "db")
    assert "upgrade" in output
    assert "current" in output
    assert code in (0, 2)  # Typer's no_args_is_help exit code differs between versions


def test_purge_prints_the_report(cli: typer.Typer, database_url: str) -> None:
    asyncio.run(migrate.upgrade(database_url))
    asyncio.run(_seed_old_call(database_url))

    code, output = run(cli, "purge")
    again_code, again = run(cli, "purge", "--days", "1000")

    assert code == again_code == 0, output
    counts = dict(re.findall(r"(calls anonymised|messages deleted)\W+(\d+)", output))
    assert counts == {"calls anonymised": "1", "messages deleted": "1"}
    assert "retention: 90 days" in output
    assert "retention: 1000 days" in again


def test_purge_migrates_an_empty_database_first(cli: typer.Typer, database_url: str) -> None:
    code, output = run(cli, "purge")
    assert code == 0, output
    assert asyncio.run(migrate.current_revision(database_url)) == HEAD


@pytest.mark.parametrize(
    ("env", "args", "code", "message"),
    [
        ({"DATABASE_URL": "mysql://nope"}, ("db", "upgrade"), 2, "DATABASE_URL"),
        ({"RETENTION_DAYS": "0"}, ("purge",), 2, "RETENTION_DAYS"),
        ({}, ("purge", "--days", "0"), 2, "--days"),
        (
            {"DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:1/none"},
            ("db", "current"),
            1,
            "database unreachable",
        ),
    ],
    ids=["bad-url", "bad-retention", "bad-days", "unreachable"],
)
def test_errors_exit_non_zero_with_one_clear_line(
    cli: typer.Typer,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    args: tuple[str, ...],
    code: int,
    message: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    exit_code, output = run(cli, *args)
    assert exit_code == code, output
    assert message in output
