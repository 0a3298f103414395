"""Operator commands: `voiceagent purge`, `voiceagent db upgrade`, `voiceagent db current`.

Registered on the main command line by `register(app)`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

from voiceagent.calls.retention import PurgeReport, purge
from voiceagent.db import migrate
from voiceagent.db.engine import create_engine, create_sessions
from voiceagent.db.tables import utcnow
from voiceagent.errors import ConfigError
from voiceagent.settings import Settings, get_settings

T = TypeVar("T")
console = Console(width=None if Console().is_terminal else 120)
db = typer.Typer(
    add_completion=False, no_args_is_help=True, help="The database schema (migrations)."
)


def register(app: typer.Typer) -> None:
    app.command(name="purge")(purge_command)
    app.add_typer(db, name="db")


def purge_command(
    days: Annotated[
        int | None,
        typer.Option(min=1, help="purge transcripts older than this (default: RETENTION_DAYS)"),
    ] = None,
) -> None:
    """Delete transcripts older than RETENTION_DAYS; calls keep outcome and timings."""
    settings = _settings()
    keep = days or settings.retention_days
    report = _run(_purge(settings, keep))
    table = Table(title=f"Purged calls created before {report.cutoff:%Y-%m-%d %H:%M} UTC")
    table.add_column("what")
    table.add_column("count", justify="right")
    for what, count in (
        ("calls anonymised", report.calls),
        ("messages deleted", report.messages),
        ("transitions deleted", report.transitions),
        ("turns deleted", report.turns),
    ):
        table.add_row(what, str(count))
    console.print(table)
    console.print(f"retention: {keep} days; do-not-call entries are never purged")


@db.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Option(help="target revision")] = "head",
) -> None:
    """Migrate the schema of DATABASE_URL to the newest revision (or --revision)."""
    settings = _settings()
    before = _run(migrate.current_revision(settings.database_url))
    _run(migrate.upgrade(settings.database_url, revision))
    after = _run(migrate.current_revision(settings.database_url))
    where = _where(settings)
    if before == after:
        _say(f"{where}: already at {after}")
    else:
        _say(f"{where}: upgraded {before or 'empty database'} -> {after}")


@db.command("current")
def db_current() -> None:
    """Print the schema revision of DATABASE_URL and whether it is the newest."""
    settings = _settings()
    current = _run(migrate.current_revision(settings.database_url))
    head = migrate.head_revision()
    if current is None:
        state = f"empty database (newest is {head}: run `voiceagent db upgrade`)"
    elif current == head:
        state = f"{current} (head)"
    else:
        state = f"{current} (behind: newest is {head}; run `voiceagent db upgrade`)"
    _say(f"{_where(settings)}: {state}")


async def _purge(settings: Settings, days: int) -> PurgeReport:
    engine = create_engine(settings.database_url)
    try:
        await migrate.upgrade_engine(engine)  # as `serve` would: the schema the code expects
        return await purge(sessions=create_sessions(engine), days=days, now=utcnow())
    finally:
        await engine.dispose()


def _run(work: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(work)
    except ConfigError as exc:
        _say(f"error: {exc}", style="red")
        raise typer.Exit(2) from None
    except OSError as exc:
        _say(f"database unreachable: {exc}", style="red")
        raise typer.Exit(1) from None


def _say(line: str, style: str | None = None) -> None:
    # One line whatever the width (URLs, paths), and no markup read into our messages.
    console.print(line, style=style, markup=False, highlight=False, soft_wrap=True)


def _where(settings: Settings) -> str:
    return make_url(settings.database_url).render_as_string(hide_password=True)


def _settings() -> Settings:
    try:
        return get_settings()
    except ConfigError as exc:
        _say(f"configuration error: {exc}", style="red")
        raise typer.Exit(2) from None
