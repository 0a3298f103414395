"""`voiceagent call PHONE [--interactive]`: one call, followed live."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from rich.console import Console

from voiceagent.cli.live import CallFollower, CallStartFailed, LocalService, local_service
from voiceagent.phone import parse_phone
from voiceagent.providers.simulated import HANG_UP, AnswerMode, Reply, SimulatedCarrier
from voiceagent.providers.wiring import build_providers
from voiceagent.script.model import load_script
from voiceagent.settings import Settings

HELP = (
    "[dim]Type what the callee says and press Enter. An empty line is silence; "
    "/hangup (or Ctrl-D) hangs up.[/]"
)


class TerminalCallee:
    """A person at the keyboard answering the simulated call."""

    answers: AnswerMode = "answer"

    def __init__(self, console: Console) -> None:
        self.console = console
        self.follower: CallFollower | None = None

    async def reply(self, heard: Sequence[str]) -> Reply:
        if self.follower is not None:
            await self.follower.catch_up()  # the agent's line is stored before Twilio hears it
        try:
            text = await asyncio.to_thread(self.console.input, "[bold yellow]you> [/]")
        except EOFError:
            return HANG_UP
        if text.strip() == "/hangup":
            return HANG_UP
        return text.strip() or None


async def place_and_follow(
    settings: Settings, console: Console, phone: str, *, interactive: bool, port: int
) -> bool:
    script = load_script(settings.script_path)
    providers = build_providers(settings, script)
    carrier = providers.telephony if isinstance(providers.telephony, SimulatedCarrier) else None
    callee = TerminalCallee(console)
    if interactive:
        if carrier is None:
            console.print("[red]--interactive needs the simulated carrier (no TWILIO_* set)[/]")
            return False
        carrier.directory.register(parse_phone(phone), callee)
        console.print(HELP)
    async with local_service(settings, providers, port=port, log_file=open_log()) as service:
        return await _run(service, console, phone, carrier, callee)


async def _run(
    service: LocalService,
    console: Console,
    phone: str,
    carrier: SimulatedCarrier | None,
    callee: TerminalCallee,
) -> bool:
    try:
        started = await service.start_call(phone)
    except CallStartFailed as exc:
        console.print(f"[red]call refused: {exc}[/]")
        return False
    console.print(f"call {started['call_id']} placed ({started['twilio_sid']})")
    follower = CallFollower(service, started["call_id"], console)
    callee.follower = follower
    if carrier is not None:
        await carrier.wait_for(started["twilio_sid"])
    await follower.follow()
    console.print(f"→ {follower.summary()}")
    return True


def open_log() -> TextIO:
    path = Path("data/call.log")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("a", encoding="utf-8")
