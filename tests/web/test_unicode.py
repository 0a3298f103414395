"""Text that cannot be encoded as UTF-8 (JSON's lone surrogates, such as "\\ud800") is refused at
every input with a 422 naming the field, replaced in Twilio's webhooks, and never breaks a page
when an older version stored it."""

from __future__ import annotations

import json
import urllib.parse
import uuid
from typing import Any

import pytest

from voiceagent.db.engine import create_engine, create_sessions
from voiceagent.db.tables import CallRow

PHONE = "+14155550101"
HIGH, LOW = "\ud800", "\udfff"


def as_json(body: object) -> dict[str, Any]:
    # json.dumps escapes a lone surrogate as \ud800, as a client's JSON would carry it.
    return {"content": json.dumps(body).encode(), "headers": {"Content-Type": "application/json"}}


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        ("/call/start", {"phone": HIGH}, ["body", "phone"]),
        ("/call/start", {"phone": PHONE, "lead": {"name": HIGH}}, ["body", "lead"]),
        ("/call/start", {"phone": PHONE, "lead": {LOW: "key"}}, ["body", "lead"]),
        ("/call/start", {"phone": PHONE, "lead": {"a": [1, {"b": f"x{HIGH}y"}]}}, ["body", "lead"]),
        ("/call/start", {"phone": PHONE, HIGH: 1}, ["body"]),
        ("/dnc", {"phone": PHONE, "note": HIGH}, ["body", "note"]),
        ("/dnc", {"phone": LOW + PHONE}, ["body", "phone"]),
    ],
)
async def test_text_that_is_not_unicode_is_refused_naming_the_field(
    live_app: Any, path: str, body: object, loc: list[str]
) -> None:
    async with live_app() as live:
        response = await live.http.post(path, **as_json(body))
        calls = await live.http.get("/calls")
        listed = await live.http.get("/dnc")
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == loc
    assert calls.json()["total"] == 0
    assert listed.json()["total"] == 0


CESU_SURROGATE = b"\xed\xa0\x80"  # "\ud800" as some encoders write it: not UTF-8


async def test_a_csv_that_is_not_utf8_is_refused_by_the_api_and_the_dashboard(
    live_app: Any,
) -> None:
    data = b"phone,name\n+14155550101,Jos" + CESU_SURROGATE + b"\n"
    async with live_app() as live:
        api = await live.http.post("/dnc/import", files={"file": ("dnc.csv", data, "text/csv")})
        page = await live.http.get("/ui/dnc")
        csrf = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        dashboard = await live.http.post(
            "/ui/dnc/import",
            files={"file": ("dnc.csv", data, "text/csv")},
            data={"csrf_token": csrf},
        )
        listed = await live.http.get("/dnc")
    assert api.status_code == 422
    assert api.json()["detail"][0]["loc"] == ["body"]
    assert dashboard.status_code == 422
    assert "not UTF-8" in dashboard.text
    assert listed.json()["total"] == 0


async def test_a_webhook_field_that_is_not_utf8_is_replaced(live_app: Any) -> None:
    async with live_app() as live:
        call = await live.run_call(PHONE)
        path = f"/twilio/voice?call_id={call['call_id']}&turn=1"
        body = f"CallSid={call['twilio_sid']}&SpeechResult=hi+%ED%A0%80+there"
        heard = urllib.parse.parse_qs(body)  # as the server reads it: bad bytes replaced
        params = {key: values[0] for key, values in heard.items()}
        answer = await live.http.post(
            path,
            content=body.encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": live.sign(live.base_url + path, params),
            },
        )
    assert answer.status_code == 200
    assert answer.text.startswith("<?xml")


async def _seed(url: str, lead: dict[str, Any]) -> str:
    engine = create_engine(url)
    try:
        async with create_sessions(engine)() as session, session.begin():
            call = CallRow(
                id=str(uuid.uuid4()),
                phone=PHONE,
                lead=lead,
                telephony="simulated",
                is_test=True,
                status="in_progress",
                state="INIT",
                progress={},
                twilio_sid="CA" + uuid.uuid4().hex,
            )
            session.add(call)
    finally:
        await engine.dispose()
    return call.id


async def test_stored_text_that_is_not_unicode_never_breaks_a_page(live_app: Any) -> None:
    async with live_app() as live:
        if not live.settings.database_url.startswith("sqlite"):
            pytest.skip("PostgreSQL refuses to store a lone surrogate in the first place")
        call_id = await _seed(live.settings.database_url, {"name": HIGH, LOW: ["x", {"y": HIGH}]})
        stored = (await live.http.get(f"/calls/{call_id}")).json()
        paths = [
            "/calls",
            f"/calls/{call_id}",
            f"/ui/calls/{call_id}/json",
            "/",
            f"/ui/calls/{call_id}",
            "/ui/live",
            "/ui/live/active",
            "/ui/calls.csv",
        ]
        answers = {path: await live.http.get(path) for path in paths}
        turn = await live.post_twilio(
            f"/twilio/voice?call_id={call_id}&turn=0",
            {"CallSid": stored["twilio_sid"], "CallStatus": "in-progress"},
        )
    for path, response in answers.items():
        assert response.status_code == 200, path
    assert stored["lead"]["name"] == "\ufffd"
    assert turn.status_code == 200
    assert "<Say>" in turn.text
