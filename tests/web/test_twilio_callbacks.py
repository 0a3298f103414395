"""Twilio's callbacks as Twilio sends them, and requests we don't trust."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from tests.conftest import CLIENT_TIMEOUT, GUARD, OnHold, until
from twilio.request_validator import RequestValidator

from voiceagent.intent.local import LocalClassifier
from voiceagent.providers.base import Providers
from voiceagent.providers.scripted import ScriptedLanguage
from voiceagent.providers.simulated import (
    CalleeDirectory,
    ScriptedCallee,
    SimulatedCarrier,
)
from voiceagent.script.model import load_script
from voiceagent.settings import Settings
from voiceagent.web.app import create_app
from voiceagent.web.server import serve_in_background

CALLEE = "+14155550142"


def _directory(*replies: str | None) -> CalleeDirectory:
    directory = CalleeDirectory.bundled()
    directory.register(CALLEE, ScriptedCallee(list(replies)))
    return directory


async def _call(live: Any, call_id: str) -> dict[str, Any]:
    result: dict[str, Any] = (await live.http.get(f"/calls/{call_id}")).json()
    return result


async def test_transfer_records_how_the_dialled_leg_ended(live_app: Any) -> None:
    directory = _directory("Sure.", "Can I talk to a real person?")
    async with live_app(directory, handoff_number="+14155550199") as live:
        call = await live.run_call(CALLEE)
        dial = [e for e in live.carrier.transcript(call["twilio_sid"]).events if e.kind == "dial"]
        stored = await _call(live, call["call_id"])
    assert dial
    assert stored["status"] == "transferred"
    assert stored["dial_status"] == "completed"


async def test_a_transfer_no_one_answers_is_apologised_for(live_app: Any) -> None:
    directory = _directory("Sure.", "Let me talk to a person.")
    async with live_app(directory, handoff_number="+14155550199") as live:
        call = await live.run_call(CALLEE)
        answer = await live.post_twilio(
            f"/twilio/dial?call_id={call['call_id']}",
            {
                "CallSid": call["twilio_sid"],
                "DialCallStatus": "no-answer",
                "DialCallSid": "CA" + "2" * 32,
                "DialCallDuration": "0",
            },
        )
        stored = await _call(live, call["call_id"])
    assert answer.status_code == 200
    assert "<Say>" in answer.text
    assert "<Hangup" in answer.text
    assert (stored["status"], stored["dial_status"]) == ("transferred", "no-answer")


async def test_fallback_ends_politely_and_records_a_telephony_error(live_app: Any) -> None:
    callee = OnHold()
    directory = CalleeDirectory.bundled()
    directory.register(CALLEE, callee)
    async with live_app(directory) as live:
        started = (await live.http.post("/call/start", json={"phone": CALLEE})).json()
        await until(callee.listening.is_set, what="the call to be live")
        answer = await live.post_twilio(
            f"/twilio/fallback?call_id={started['call_id']}",
            {
                "CallSid": started["twilio_sid"],
                "ErrorCode": "11200",
                "ErrorUrl": f"{live.base_url}/twilio/voice",
            },
        )
        unsigned = await live.post_twilio(
            f"/twilio/fallback?call_id={started['call_id']}", {"ErrorCode": "1"}, sign=False
        )
        callee.release.set()
        await live.carrier.wait_for(started["twilio_sid"], timeout=GUARD)
        stored = await _call(live, started["call_id"])
    assert answer.status_code == 200
    assert "<Hangup" in answer.text
    assert "<Say>" in answer.text
    assert unsigned.status_code == 403
    assert (stored["state"], stored["end_reason"]) == ("END", "telephony_error")
    assert stored["transitions"][-1]["to_state"] == "END"


@pytest.mark.parametrize(
    ("signed_url", "accepted"),
    [
        ("https://agent.example.com/twilio/voice", True),
        ("https://agent.example.com:443/twilio/voice", True),  # Twilio may sign the port
        ("http://127.0.0.1/twilio/voice", False),  # the URL the proxy forwarded to
        ("https://agent.example.com/twilio/status", False),
    ],
)
async def test_signatures_are_checked_against_the_public_url_behind_a_proxy(
    make_settings: Callable[..., Settings], signed_url: str, accepted: bool
) -> None:
    token = "proxy-test-token"
    script = load_script(None)
    carrier = SimulatedCarrier(token)
    providers = Providers(carrier, ScriptedLanguage(script), LocalClassifier())
    settings = make_settings(public_base_url="https://agent.example.com")
    params = {"CallSid": "CA" + "3" * 32, "CallStatus": "ringing"}
    signature = RequestValidator(token).compute_signature(signed_url, params)

    def build(_: str) -> Any:
        return create_app(settings, providers, script=script, configure_logs=False)

    async with (
        serve_in_background(build) as server,
        httpx.AsyncClient(timeout=CLIENT_TIMEOUT) as http,
    ):
        response = await http.post(
            f"{server.base_url}/twilio/voice",
            data=params,
            headers={"X-Twilio-Signature": signature, "X-Forwarded-Proto": "https"},
        )
    assert response.status_code == (200 if accepted else 403)


async def test_oversized_bodies_are_refused_with_413(live_app: Any) -> None:
    async with live_app() as live:
        big = b'{"phone": "+14155550101", "lead": {"notes": "' + b"x" * 100_000 + b'"}}'
        declared = await live.http.post(
            "/call/start", content=big, headers={"Content-Type": "application/json"}
        )

        async def chunks() -> Any:
            for _ in range(1100):  # a webhook path takes 1 MB (a long speech must not end a call)
                yield b"x" * 1000

        streamed = await live.http.post(
            "/twilio/voice",
            content=chunks(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        total = (await live.http.get("/calls")).json()["total"]
    assert declared.status_code == 413
    assert "bytes" in declared.json()["detail"]
    assert streamed.status_code == 413
    assert total == 0


async def test_a_lead_too_large_to_keep_is_422(live_app: Any) -> None:
    async with live_app() as live:
        response = await live.http.post(
            "/call/start", json={"phone": "+14155550101", "lead": {"notes": "x" * 5000}}
        )
    assert response.status_code == 422
    assert "4096" in response.text


async def test_call_starts_are_rate_limited_per_client(live_app: Any) -> None:
    async with live_app(call_start_rate_per_minute=3) as live:
        answers = [
            await live.http.post("/call/start", json={"phone": "+14155550103"}) for _ in range(4)
        ]
        for answer in answers[:3]:
            await live.carrier.wait_for(answer.json()["twilio_sid"], timeout=GUARD)
    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    assert int(answers[3].headers["Retry-After"]) >= 1


async def test_a_very_long_speech_result_is_cut_not_refused(live_app: Any) -> None:
    rambling = "well we pay about twelve people every two weeks " * 100
    async with live_app(_directory(rambling)) as live:
        call = await live.run_call(CALLEE)
    said = [m for m in call["messages"] if m["role"] == "caller"]
    assert len(said) == 1
    assert len(said[0]["text"]) == 2000
    assert rambling.startswith(said[0]["text"])
    assert said[0]["intent"] == "interested"


ODD_NUMBERS = ["²", str(2**63), "9" * 5000, "-1", "1e3"]


@pytest.mark.parametrize("odd", ODD_NUMBERS)
async def test_an_odd_number_in_a_signed_webhook_is_ignored(live_app: Any, odd: str) -> None:
    directory = _directory("Sure.", "Let me talk to a person.")
    async with live_app(directory, handoff_number="+14155550199") as live:
        call = await live.run_call(CALLEE)
        sid, call_id = call["twilio_sid"], call["call_id"]
        status = await live.post_twilio(
            f"/twilio/status?call_id={call_id}",
            {"CallSid": sid, "CallStatus": "completed", "SequenceNumber": odd, "CallDuration": odd},
        )
        dial = await live.post_twilio(
            f"/twilio/dial?call_id={call_id}",
            {"CallSid": sid, "DialCallStatus": "busy", "DialCallDuration": odd},
        )
        turn = await live.post_twilio(
            f"/twilio/voice?call_id={call_id}&turn=1",
            {"CallSid": sid, "CallStatus": "in-progress", "SequenceNumber": odd, "Duration": odd},
        )
        stored = await _call(live, call_id)
    assert status.status_code == 204
    assert dial.status_code == 200
    assert "<Hangup" in dial.text
    assert turn.status_code == 200
    assert stored["dial_status"] == "busy"  # the rest of the callback still counts
    assert stored["duration_seconds"] is None or stored["duration_seconds"] < 3600


async def test_a_speech_result_past_the_body_cap_is_cut_and_the_call_goes_on(
    live_app: Any,
) -> None:
    rambling = "well we pay about twelve people every two weeks " * 1500  # 72 KB
    async with live_app(_directory(rambling)) as live:
        call = await live.run_call(CALLEE)
        webhooks = [
            e
            for e in live.carrier.transcript(call["twilio_sid"]).events
            if e.data.get("status_code") is not None
        ]
    said = [m for m in call["messages"] if m["role"] == "caller"]
    assert [e.data["status_code"] for e in webhooks if e.data["status_code"] != 200] == []
    assert len(said) == 1
    assert len(said[0]["text"]) == 2000
    assert said[0]["intent"] == "interested"
    assert call["end_reason"] != "telephony_error"


async def test_an_over_long_field_in_a_signed_webhook_is_cut_not_refused(live_app: Any) -> None:
    async with live_app(_directory("Sure.")) as live:
        call = await live.run_call(CALLEE)
        status = await live.post_twilio(
            f"/twilio/status?call_id={call['call_id']}",
            {"CallSid": call["twilio_sid"], "CallStatus": "completed", "AddOns": "{" * 200_000},
        )
        voice = await live.post_twilio(
            f"/twilio/voice?call_id={call['call_id']}&turn=99",
            {"CallSid": call["twilio_sid"], "SpeechResult": "x" * 100_000},
        )
    assert status.status_code == 204
    assert voice.status_code == 200
    assert voice.text.startswith("<?xml")
