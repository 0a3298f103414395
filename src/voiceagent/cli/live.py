"""Run the service inside the CLI process and follow a call live through the HTTP API."""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from rich.console import Console
from rich.markup import escape

from voiceagent.calls.status import FINISHED
from voiceagent.phone import mask_phone
from voiceagent.providers.base import Providers
from voiceagent.settings import Settings
from voiceagent.web.app import create_app
from voiceagent.web.server import serve_in_background

STATE_STYLE = {
    "INIT": "dim",
    "INTRO": "cyan",
    "QUALIFY": "blue",
    "PITCH": "magenta",
    "CLOSE": "green",
    "END": "bold",
}


@dataclass
class LocalService:
    """The service on loopback, with an HTTP client for its API."""

    base_url: str
    settings: Settings
    http: httpx.AsyncClient

    async def start_call(self, phone: str, lead: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.http.post("/call/start", json={"phone": phone, "lead": lead or {}})
        if response.status_code != 202:
            detail = response.json().get("detail", response.text)
            if isinstance(detail, list):  # a 422 names each field at fault
                detail = "; ".join(str(error.get("msg", error)) for error in detail)
            raise CallStartFailed(f"{response.status_code}: {detail}")
        result: dict[str, Any] = response.json()
        return result

    async def call(self, call_id: str) -> dict[str, Any]:
        response = await self.http.get(f"/calls/{call_id}")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result


class CallStartFailed(Exception):
    pass


@asynccontextmanager
async def local_service(
    settings: Settings,
    providers: Providers | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    log_file: Any = None,
) -> AsyncIterator[LocalService]:
    """Serve the app on loopback; with the simulated carrier its own URL is the public one."""
    from voiceagent.observability import configure_logging

    configure_logging(settings.log_level, settings.log_format, file=log_file)
    live: dict[str, Settings] = {}

    def build(base_url: str) -> Any:
        own = (
            settings
            if settings.uses_twilio
            else settings.model_copy(update={"public_base_url": base_url})
        )
        live["settings"] = own
        return create_app(own, providers, configure_logs=False)

    async with serve_in_background(build, host=host, port=port) as server:
        headers = {}
        if settings.api_token is not None:
            headers["Authorization"] = f"Bearer {settings.api_token.get_secret_value()}"
        async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as http:
            yield LocalService(server.base_url, live["settings"], http)


@dataclass
class CallFollower:
    """Prints a call's stored turns as they appear: state, who spoke, intent, latency."""

    service: LocalService
    call_id: str
    console: Console
    printed: int = 0
    latencies: list[float] = field(default_factory=list)
    last: dict[str, Any] = field(default_factory=dict)

    async def catch_up(self) -> dict[str, Any]:
        call = await self.service.call(self.call_id)
        for message in call["messages"][self.printed :]:
            self._print(message)
        self.printed = len(call["messages"])
        self.last = call
        return call

    async def follow(self, *, poll: float = 0.05, timeout: float = 600.0) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            call = await self.catch_up()
            if call["status"] in FINISHED or loop.time() > deadline:
                return call
            await asyncio.sleep(poll)

    def _print(self, message: dict[str, Any]) -> None:
        state = message["state"]
        style = STATE_STYLE.get(state, "")
        if message["role"] == "agent":
            ms = message["latency_ms"]
            if ms is not None:
                self.latencies.append(ms)
            timing = f"[dim]{ms:7.1f} ms[/]" if ms is not None else ""
            self.console.print(
                f"  [{style}]{state:<8}[/] [bold]agent [/]  {escape(message['text'])}  {timing}"
            )
        else:
            intent = message["intent"] or ""
            self.console.print(
                f"  {'':<8} [yellow]caller[/]  {escape(message['text'])}  [dim]→ {intent}[/]"
            )

    def summary(self) -> str:
        call = self.last
        p50 = statistics.median(self.latencies) if self.latencies else 0.0
        return (
            f"{mask_phone(call.get('phone', ''))}: status={call.get('status')} "
            f"state={call.get('state')} end_reason={call.get('end_reason')} "
            f"outcome={call.get('outcome')} turns={len(self.latencies)} p50={p50:.1f} ms"
        )
