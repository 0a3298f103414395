"""The real-Twilio code path: the official SDK places calls against a local Twilio REST emulator
(TWILIO_API_BASE_URL), which plays them back into the service with signed webhooks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from tests.conftest import CLIENT_TIMEOUT, GUARD

from voiceagent.emulators.twilio_rest import TwilioRestEmulator
from voiceagent.settings import Settings
from voiceagent.web.app import create_app
from voiceagent.web.server import serve_in_background


def _app_on(
    emulator: TwilioRestEmulator,
    twilio_url: str,
    make_settings: Callable[..., Settings],
    token: str,
) -> Callable[[str], Any]:
    """The app with real-Twilio settings pointed at the local REST emulator."""

    def build(base_url: str) -> Any:
        settings = make_settings(
            public_base_url=base_url,
            twilio_account_sid=emulator.account_sid,
            twilio_auth_token=token,
            twilio_phone_number="+14155550100",
            twilio_api_base_url=twilio_url,
            calling_hours="any",
        )
        return create_app(settings, configure_logs=False)

    return build


async def test_calls_go_through_the_twilio_sdk_and_signed_webhooks(
    make_settings: Callable[..., Settings],
) -> None:
    emulator = TwilioRestEmulator()
    async with serve_in_background(lambda _: emulator.app) as twilio:  # type: ignore[arg-type,return-value]
        build = _app_on(emulator, twilio.base_url, make_settings, emulator.auth_token)
        async with (
            serve_in_background(build) as app,
            httpx.AsyncClient(base_url=app.base_url, timeout=CLIENT_TIMEOUT) as http,
        ):
            health = (await http.get("/healthz")).json()
            started = await http.post("/call/start", json={"phone": "+14155550101"})
            body = started.json()
            await emulator.carrier.wait_for(body["twilio_sid"], timeout=GUARD)
            call = (await http.get(f"/calls/{body['call_id']}")).json()
        await emulator.carrier.aclose()

    assert health["telephony"] == "twilio"
    assert started.status_code == 202
    assert (call["status"], call["end_reason"], call["outcome"]) == (
        "completed",
        "completed",
        "converted",
    )
    create = emulator.requests[0]["form"]
    assert create["To"] == ["+14155550101"]
    assert create["From"] == ["+14155550100"]
    assert create["Url"][0] == f"{app.base_url}/twilio/voice?call_id={body['call_id']}&turn=0"
    assert create["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]


async def test_twilio_refusing_the_call_is_502_and_the_call_is_failed(
    make_settings: Callable[..., Settings],
) -> None:
    emulator = TwilioRestEmulator()
    async with serve_in_background(lambda _: emulator.app) as twilio:  # type: ignore[arg-type,return-value]
        build = _app_on(emulator, twilio.base_url, make_settings, "wrong-token")
        async with (
            serve_in_background(build) as app,
            httpx.AsyncClient(base_url=app.base_url, timeout=CLIENT_TIMEOUT) as http,
        ):
            response = await http.post("/call/start", json={"phone": "+14155550101"})
            calls = (await http.get("/calls")).json()
        await emulator.carrier.aclose()

    assert response.status_code == 502
    assert "Twilio refused the call" in response.json()["detail"]
    assert calls["total"] == 1
    assert (calls["calls"][0]["status"], calls["calls"][0]["end_reason"]) == (
        "failed",
        "telephony_error",
    )
