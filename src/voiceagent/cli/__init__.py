"""The `voiceagent` command line: serve, call, demo, purge, db."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from voiceagent.cli.admin import register as register_admin
from voiceagent.cli.intent import app as intent_app
from voiceagent.errors import ConfigError
from voiceagent.settings import Settings, get_settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
register_admin(app)
app.add_typer(intent_app, name="intent")
# Pipes and CI logs get a readable width too (rich falls back to 80 columns there).
console = Console(width=None if Console().is_terminal else 160)


def _settings(**overrides: object) -> Settings:
    try:
        return get_settings(**overrides)
    except ConfigError as exc:
        console.print(f"[red]configuration error:[/] {exc}")
        raise typer.Exit(2) from None


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
) -> None:
    """Run the service (API, Twilio webhooks, dashboard)."""
    import uvicorn

    from voiceagent.web.app import create_app

    settings = _settings()
    if not settings.uses_twilio and "public_base_url" not in settings.model_fields_set:
        # The simulated carrier calls back into this very server.
        settings = settings.model_copy(update={"public_base_url": f"http://{host}:{port}"})
    try:
        application = create_app(settings)
    except ConfigError as exc:
        console.print(f"[red]configuration error:[/] {exc}")
        raise typer.Exit(2) from None
    # Twilio reuses its connections between a call's turns, seconds apart: keep them open
    # longer than uvicorn's 5 s, so a turn never races the server closing its connection.
    # proxy_headers off: uvicorn would believe X-Forwarded-For from 127.0.0.1, where ngrok and
    # a same-host proxy connect from; the app believes only TRUSTED_PROXIES.
    uvicorn.run(
        application,
        host=host,
        port=port,
        log_level="warning",
        timeout_keep_alive=30,
        proxy_headers=False,
    )


@app.command()
def call(
    phone: Annotated[str, typer.Argument(help="number to call, E.164 (e.g. +14155550101)")],
    interactive: Annotated[
        bool, typer.Option("--interactive", "-i", help="you are the callee: type the replies")
    ] = False,
    port: Annotated[int, typer.Option(help="port for the service (0: any free port)")] = 0,
) -> None:
    """Place one call and follow it live (state, intent and latency per turn)."""
    from voiceagent.cli.calling import place_and_follow

    settings = _settings()
    ok = asyncio.run(place_and_follow(settings, console, phone, interactive=interactive, port=port))
    raise typer.Exit(0 if ok else 1)


@app.command()
def demo(
    database: Annotated[
        Path, typer.Option(help="SQLite file for the demo (recreated each run)")
    ] = Path("data/demo.db"),
) -> None:
    """Call every bundled persona on the simulated carrier and print transcripts and a summary."""
    from voiceagent.cli.demo import run_demo

    database.unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    settings = _settings(database_url=f"sqlite+aiosqlite:///{database}")
    if settings.uses_twilio:
        settings = settings.model_copy(
            update={"twilio_account_sid": None, "twilio_auth_token": None}
        )
    ok = asyncio.run(run_demo(settings, console, database.with_suffix(".log")))
    raise typer.Exit(0 if ok else 1)
