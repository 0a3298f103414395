"""An operator ends a live call: `POST /calls/{id}/hangup` and the call page's button, on the
simulated carrier and through the twilio SDK (issue 9, item 13)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from voiceagent.emulators.twilio_rest import TwilioRestEmulator
from voiceagent.providers.simulated import CalleeDirectory
from voiceagent.providers.simulated.callees import AnswerMode, Reply
from voiceagent.providers.simulated.transcript import EventKind
from voiceagent.settings import Settings
from voiceagent.web.app import create_app
from voiceagent.web.server import serve_in_background

CALLEE = "+14155550143"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Thinking:
    """Answers, then never says a word: the call stays live until someone ends it."""

    @property
    def answers(self) -> AnswerMode:
        return "answer"

    async def reply(self, heard: Sequence[str]) -> Reply:
        await asyncio.Event().wait()
        return None


def _directory() -> CalleeDirectory:
    directory = CalleeDirectory.bundled()
    directory.register(CALLEE, Thinking())
    return directory


async def _live_call(http: httpx.AsyncClient) -> dict[str, Any]:
    started = await http.post("/call/start", json={"phone": CALLEE})
    assert started.status_code == 202, started.text
    call_id = started.json()["call_id"]
    for _ in range(300):
        call: dict[str, Any] = (await http.get(f"/calls/{call_id}")).json()
        if call["status"] == "in_progress" and call["messages"]:
            return call
        await asyncio.sleep(0.05)
    raise AssertionError(f"the call never went live: {call}")


async def test_the_api_ends_a_live_call_at_the_carrier(live_app: Any) -> None:
    async with live_app(_directory()) as live:
        call = await _live_call(live.http)
        ended = await live.http.post(f"/calls/{call['call_id']}/hangup")
        transcript = await live.carrier.wait_for(call["twilio_sid"], timeout=15)
        again = await live.http.post(f"/calls/{call['call_id']}/hangup")
        unknown = await live.http.post("/calls/no-such-call/hangup")
        stored = (await live.http.get(f"/calls/{call['call_id']}")).json()
    assert ended.status_code == 200, ended.text
    assert (ended.json()["status"], ended.json()["end_reason"]) == ("completed", "operator_hangup")
    assert [e.text for e in transcript.events if e.kind == EventKind.HANGUP] == ["account"]
    assert transcript.status == "completed"
    assert again.status_code == 409
    assert unknown.status_code == 404
    # The carrier's final callback came after: it keeps the operator's reason.
    assert (stored["status"], stored["end_reason"]) == ("completed", "operator_hangup")


async def test_the_call_page_has_a_hang_up_button(live_app: Any) -> None:
    async with live_app(_directory()) as live, httpx.AsyncClient(base_url=live.base_url) as web:
        call = await _live_call(live.http)
        page = await web.get(f"/ui/calls/{call['call_id']}")
        found = CSRF.search(page.text.split("/hangup", 1)[1])
        assert found, page.text
        pressed = await web.post(
            f"/ui/calls/{call['call_id']}/hangup", data={"csrf_token": found.group(1)}
        )
        await live.carrier.wait_for(call["twilio_sid"], timeout=15)
        after = await web.get(f"/ui/calls/{call['call_id']}")
        stored = (await live.http.get(f"/calls/{call['call_id']}")).json()
    assert f'action="/ui/calls/{call["call_id"]}/hangup"' in page.text
    assert pressed.status_code == 303
    assert stored["end_reason"] == "operator_hangup"
    assert "/hangup" not in after.text  # a finished call has no button


async def test_with_twilio_the_call_is_updated_to_completed_through_the_sdk(
    make_settings: Callable[..., Settings],
) -> None:
    emulator = TwilioRestEmulator(_directory())

    def build(base_url: str) -> Any:
        settings = make_settings(
            public_base_url=base_url,
            twilio_account_sid=emulator.account_sid,
            twilio_auth_token=emulator.auth_token,
            twilio_phone_number="+14155550100",
            twilio_api_base_url=twilio.base_url,
            calling_hours="any",
        )
        return create_app(settings, configure_logs=False)

    async with serve_in_background(lambda _: emulator.app) as twilio:  # type: ignore[arg-type,return-value]
        async with (
            serve_in_background(build) as app,
            httpx.AsyncClient(base_url=app.base_url) as http,
        ):
            call = await _live_call(http)
            ended = await http.post(f"/calls/{call['call_id']}/hangup")
            transcript = await emulator.carrier.wait_for(call["twilio_sid"], timeout=15)
        await emulator.carrier.aclose()
    assert ended.status_code == 200, ended.text
    updates = [r for r in emulator.requests if r["path"].endswith(f"/{call['twilio_sid']}.json")]
    assert [u["form"]["Status"] for u in updates] == [["completed"]]
    assert transcript.status == "completed"
