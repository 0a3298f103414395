"""When the service fails a turn outright, Twilio's FallbackUrl ends the call politely."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
from tests.conftest import CLIENT_TIMEOUT, GUARD

from voiceagent.intent.local import LocalClassifier
from voiceagent.providers.base import LineRequest, Providers
from voiceagent.providers.scripted import ScriptedLanguage
from voiceagent.providers.simulated import EventKind, SimulatedCarrier
from voiceagent.script.model import load_script
from voiceagent.settings import Settings
from voiceagent.web.app import create_app
from voiceagent.web.server import serve_in_background


class BrokenAfterTheOpening:
    """A language provider with a bug: every line after the opening raises."""

    def __init__(self, scripted: ScriptedLanguage) -> None:
        self.scripted = scripted

    async def stream_line(self, request: LineRequest) -> AsyncIterator[str]:
        if request.turn > 0:
            raise RuntimeError("a bug in the language provider")
        async for sentence in self.scripted.stream_line(request):
            yield sentence


async def test_a_turn_the_service_fails_ends_through_the_fallback_url(
    make_settings: Callable[..., Settings],
) -> None:
    script = load_script(None)
    carrier = SimulatedCarrier(secrets.token_hex(16))
    providers = Providers(
        carrier, BrokenAfterTheOpening(ScriptedLanguage(script)), LocalClassifier()
    )

    def build(base_url: str) -> Any:
        settings = make_settings(public_base_url=base_url)
        return create_app(settings, providers, script=script, configure_logs=False)

    async with (
        serve_in_background(build) as server,
        httpx.AsyncClient(base_url=server.base_url, timeout=CLIENT_TIMEOUT) as http,
    ):
        started = (await http.post("/call/start", json={"phone": "+14155550101"})).json()
        transcript = await carrier.wait_for(started["twilio_sid"], timeout=GUARD)
        call = (await http.get(f"/calls/{started['call_id']}")).json()

    hooks = [e for e in transcript.events if e.kind is EventKind.WEBHOOK]
    assert [h.data["status_code"] for h in hooks] == [200, 500, 200]
    assert "/twilio/fallback" in hooks[-1].text
    said = [e.text for e in transcript.events if e.kind is EventKind.SAY]
    assert "application error" not in " ".join(said)  # the fallback spoke instead
    assert (call["state"], call["end_reason"]) == ("END", "telephony_error")
    assert "11200" in (call["error"] or "")
    # The caller's words of the failed turn were stored before the failure: nothing lost.
    assert [m["role"] for m in call["messages"]] == ["agent", "caller"]
