"""The app with real providers pointed at local servers speaking OpenAI's and ElevenLabs' wire
protocols (the vendors' own SDKs over real HTTP on loopback), and the simulated carrier."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from tests.conftest import Live

from voiceagent.emulators.elevenlabs import ElevenLabsBehaviour, ElevenLabsEmulator
from voiceagent.emulators.openai import OpenAIEmulator
from voiceagent.providers.simulated import CalleeDirectory, SimulatedCarrier
from voiceagent.providers.wiring import build_providers
from voiceagent.script.model import load_script
from voiceagent.settings import Settings
from voiceagent.web.app import create_app
from voiceagent.web.server import serve_in_background


@dataclass
class Voiced:
    live: Live
    openai: OpenAIEmulator
    elevenlabs: ElevenLabsEmulator
    app: Any

    async def warm(self) -> None:
        """Wait for the fixed lines' audio, synthesised in the background at start-up."""
        warming = self.app.state.audio_warming
        if warming is not None:
            await warming


@pytest.fixture
def voiced_app(make_settings: Callable[..., Settings]) -> Callable[..., Any]:
    @asynccontextmanager
    async def start(
        directory: CalleeDirectory | None = None,
        *,
        llm: bool = True,
        tts: bool = True,
        **overrides: Any,
    ) -> AsyncIterator[Voiced]:
        openai = OpenAIEmulator()
        # Audio comes in one burst unless a test paces it: warming the fixed lines' cache then
        # takes a moment instead of seconds of synthetic real time.
        elevenlabs = ElevenLabsEmulator(behaviour=ElevenLabsBehaviour(realtime_factor=None))
        async with (
            serve_in_background(lambda _: openai.app) as openai_server,  # type: ignore[arg-type, return-value]
            serve_in_background(lambda _: elevenlabs.app) as tts_server,  # type: ignore[arg-type, return-value]
        ):
            vendors: dict[str, Any] = {}
            if llm:
                vendors |= {
                    "openai_api_key": openai.api_key,
                    "openai_base_url": f"{openai_server.base_url}/v1",
                }
            if tts:
                vendors |= {
                    "elevenlabs_api_key": elevenlabs.api_key,
                    "elevenlabs_base_url": tts_server.base_url,
                }
            holder: dict[str, Any] = {}

            def build(base_url: str) -> Any:
                settings = make_settings(public_base_url=base_url, **vendors, **overrides)
                script = load_script(None)
                providers = build_providers(settings, script)
                assert isinstance(providers.telephony, SimulatedCarrier)
                if directory is not None:
                    providers.telephony.directory = directory
                holder.update(settings=settings, carrier=providers.telephony)
                return create_app(settings, providers, script=script, configure_logs=False)

            async with (
                serve_in_background(build) as server,
                httpx.AsyncClient(base_url=server.base_url, timeout=30) as http,
            ):
                live = Live(server.base_url, holder["settings"], holder["carrier"], http, "")
                yield Voiced(live, openai, elevenlabs, server.app)

    return start


# The behaviour matrix and the conversations run on both transports: one suite, parametrised.
TRANSPORTS = ("gather", "relay")
# ConversationRelay sends nothing while the caller is quiet, so the relay transport counts
# silence on the wall clock. Tests shorten it, keeping the defaults' ratio (two quiet turns end
# the call), so a silent turn costs a second rather than four.
QUICK_SILENCE = {"gather_timeout_seconds": 1, "silence_timeout_seconds": 2}


def silence(transport: str, *, gather: int = 4, timeout: float = 8) -> dict[str, Any]:
    """Silence settings for a test: as given on Gather, scaled to one-second turns on relay."""
    if transport == "relay":
        return {"gather_timeout_seconds": 1, "silence_timeout_seconds": timeout / gather}
    return {"gather_timeout_seconds": gather, "silence_timeout_seconds": timeout}


def on_transport(start: Callable[..., Any], transport: str) -> Callable[..., Any]:
    """`live_app` / `voiced_app` with the transport set (and quick silence on relay)."""

    def started(directory: CalleeDirectory | None = None, **overrides: Any) -> Any:
        overrides.setdefault("voice_transport", transport)
        if transport == "relay":
            for name, value in QUICK_SILENCE.items():
                overrides.setdefault(name, value)
        return start(directory, **overrides)

    return started
