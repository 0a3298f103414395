"""`voiceagent demo`: every bundled persona called on the embedded defaults, then a summary."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from voiceagent.cli.live import CallFollower, CallStartFailed, local_service
from voiceagent.phone import mask_phone
from voiceagent.providers.simulated import Persona, SimulatedCarrier
from voiceagent.providers.wiring import build_providers
from voiceagent.script.model import load_script
from voiceagent.settings import Settings


async def run_demo(settings: Settings, console: Console, log_path: Path) -> bool:
    """Call every persona in turn; True when each call ended the way its persona expects."""
    script = load_script(settings.script_path)
    providers = build_providers(settings, script)
    carrier = providers.telephony
    if not isinstance(carrier, SimulatedCarrier):
        raise SystemExit("the demo runs on the simulated carrier: unset the TWILIO_* settings")
    handoff = settings.handoff_number is not None
    rows: list[tuple[Persona, dict[str, Any], list[float], bool]] = []
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("w", encoding="utf-8") as log_file:
        async with local_service(settings, providers, log_file=log_file) as service:
            console.print(
                f"[bold]voiceagent demo[/] · service on {service.base_url} · "
                f"database {settings.database_url} · simulated carrier · "
                f"script: {script.company} ({script.agent_name})\n"
            )
            for persona in sorted(carrier.directory.personas, key=lambda p: p.number):
                console.rule(f"[bold]{persona.name}[/] {mask_phone(persona.number)}")
                console.print(f"[dim]{persona.description}[/]")
                try:
                    started = await service.start_call(persona.number)
                except CallStartFailed as exc:
                    console.print(f"[red]could not start the call: {exc}[/]")
                    rows.append((persona, {"status": f"refused {exc}"}, [], False))
                    continue
                follower = CallFollower(service, started["call_id"], console)
                await carrier.wait_for(started["twilio_sid"], timeout=120)
                call = await follower.follow()
                expected = persona.expectation(handoff_configured=handoff)
                ok = (call["status"], call["end_reason"], call["outcome"]) == (
                    expected.status,
                    expected.end_reason,
                    expected.outcome,
                )
                mark = "[green]as expected[/]" if ok else f"[red]expected {expected}[/]"
                console.print(f"  → {follower.summary()}  {mark}\n")
                rows.append((persona, call, follower.latencies, ok))
    console.print(_summary(rows))
    console.print(f"[dim]Structured logs: {log_path}[/]")
    return all(ok for *_, ok in rows)


def _summary(rows: list[tuple[Persona, dict[str, Any], list[float], bool]]) -> Table:
    table = Table(title="Demo summary")
    for column in ("persona", "number", "status", "final state", "end_reason", "outcome"):
        table.add_column(column)
    table.add_column("agent turns", justify="right")
    table.add_column("p50 turn ms", justify="right")
    table.add_column("as expected")
    for persona, call, latencies, ok in rows:
        table.add_row(
            persona.name,
            mask_phone(persona.number),
            str(call.get("status")),
            str(call.get("state", "")),
            str(call.get("end_reason") or ""),
            str(call.get("outcome") or ""),
            str(len(latencies)),
            f"{statistics.median(latencies):.1f}" if latencies else "",
            "yes" if ok else "NO",
        )
    return table
