"""The HTTP contract's error paths and guarantees, against the real app on loopback."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree

import pytest
from tests.conftest import GUARD
from tests.web.test_ui_calls import seed_calls

from voiceagent.providers.simulated import CalleeDirectory, ScriptedCallee

CALLEE = "+14155550142"


def _hold_the_line() -> CalleeDirectory:
    directory = CalleeDirectory.bundled()
    directory.register(CALLEE, ScriptedCallee(["Sure, go ahead."]))
    return directory


async def _stored(live: Any, call_id: str) -> dict[str, Any]:
    response = await live.http.get(f"/calls/{call_id}")
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


@pytest.mark.parametrize(
    ("phone", "reason"),
    [
        ("415555", "not a valid US number"),
        ("+1415", "not a valid"),
        ("+99912345678", "not a phone number"),
        ("call me maybe", "not a phone number"),
    ],
)
async def test_invalid_number_is_422_with_the_reason(
    live_app: Any, phone: str, reason: str
) -> None:
    async with live_app() as live:
        response = await live.http.post("/call/start", json={"phone": phone})
        calls = (await live.http.get("/calls")).json()
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "phone"]
    assert reason in error["msg"]
    assert calls["total"] == 0


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[]", b'{"lead": {}}', b'{"phone": 123}', b'{"phone": "+14155550101", "x": 1}'],
)
async def test_malformed_body_is_422(live_app: Any, body: bytes) -> None:
    async with live_app() as live:
        response = await live.http.post(
            "/call/start", content=body, headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 422


async def test_start_returns_202_queued_with_the_sid(live_app: Any) -> None:
    async with live_app() as live:
        response = await live.http.post("/call/start", json={"phone": "+1 (415) 555-0101"})
        body = response.json()
        await live.carrier.wait_for(body["twilio_sid"], timeout=GUARD)
        call = await _stored(live, body["call_id"])
    assert response.status_code == 202
    assert body["status"] == "queued"
    assert body["twilio_sid"].startswith("CA")
    assert call["phone"] == "+14155550101"


@pytest.mark.parametrize(
    ("phone", "region", "e164"),
    [
        ("(415) 555-0173", None, "+14155550173"),  # DEFAULT_REGION is US unless set
        ("4155550173", None, "+14155550173"),
        ("1-415-555-0173", None, "+14155550173"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("+1 415 555 0173", "GB", "+14155550173"),  # a country code wins over the region
    ],
)
async def test_a_national_number_is_read_in_the_default_region(
    live_app: Any, phone: str, region: str | None, e164: str
) -> None:
    overrides = {"default_region": region} if region else {}
    async with live_app(**overrides) as live:
        response = await live.http.post("/call/start", json={"phone": phone})
        assert response.status_code == 202, response.text
        await live.carrier.wait_for(response.json()["twilio_sid"], timeout=GUARD)
        call = await _stored(live, response.json()["call_id"])
    assert call["phone"] == e164


async def test_same_idempotency_key_returns_the_same_call(live_app: Any) -> None:
    async with live_app() as live:
        headers = {"Idempotency-Key": "lead-42-attempt-1"}
        first, second = await asyncio.gather(
            live.http.post("/call/start", json={"phone": "+14155550101"}, headers=headers),
            live.http.post("/call/start", json={"phone": "+14155550101"}, headers=headers),
        )
        # The request that lost the race may answer before the sid is stored: same call.
        sid = first.json()["twilio_sid"] or second.json()["twilio_sid"]
        await live.carrier.wait_for(sid, timeout=GUARD)
        other = await live.http.post("/call/start", json={"phone": "+14155550102"}, headers=headers)
        total = (await live.http.get("/calls")).json()["total"]
    assert first.status_code == second.status_code == 202
    assert first.json()["call_id"] == second.json()["call_id"]
    assert total == 1
    assert other.status_code == 409


async def test_an_empty_idempotency_key_is_no_key(live_app: Any) -> None:
    async with live_app() as live:
        started = []
        for phone in ("+14155550101", "+14155550103"):
            response = await live.http.post(
                "/call/start", json={"phone": phone}, headers={"Idempotency-Key": ""}
            )
            assert response.status_code == 202, response.text
            started.append(response.json())
            await live.carrier.wait_for(started[-1]["twilio_sid"], timeout=GUARD)
        keyed = await live.http.post(
            "/call/start", json={"phone": "+14155550107"}, headers={"Idempotency-Key": "k-1"}
        )
        total = (await live.http.get("/calls")).json()["total"]
    assert started[0]["call_id"] != started[1]["call_id"]
    assert keyed.status_code == 202  # no '' key was stored to collide with
    assert total == 3


async def test_unknown_call_is_404(live_app: Any) -> None:
    async with live_app() as live:
        response = await live.http.get("/calls/does-not-exist")
    assert response.status_code == 404
    assert "does-not-exist" in response.json()["detail"]


async def test_calls_are_listed_newest_first_with_paging(live_app: Any) -> None:
    async with live_app() as live:
        ids = []
        for phone in ("+14155550101", "+14155550103", "+14155550107"):
            started = (await live.http.post("/call/start", json={"phone": phone})).json()
            await live.carrier.wait_for(started["twilio_sid"], timeout=GUARD)
            ids.append(started["call_id"])
        page = (await live.http.get("/calls", params={"limit": 2, "offset": 0})).json()
        rest = (await live.http.get("/calls", params={"limit": 2, "offset": 2})).json()
        bad = await live.http.get("/calls", params={"limit": 0})
    assert page["total"] == 3
    assert [c["call_id"] for c in page["calls"] + rest["calls"]] == ids[::-1]
    assert bad.status_code == 422


@pytest.mark.parametrize("signature", [None, "", "bm90IGEgc2lnbmF0dXJl"])
async def test_bad_signature_is_403_and_nothing_stored(
    live_app: Any, signature: str | None
) -> None:
    async with live_app(_hold_the_line()) as live:
        started = (await live.http.post("/call/start", json={"phone": CALLEE})).json()
        await live.carrier.wait_for(started["twilio_sid"], timeout=GUARD)
        before = await _stored(live, started["call_id"])
        params = {"CallSid": started["twilio_sid"], "SpeechResult": "take me off your list"}
        path = f"/twilio/voice?call_id={started['call_id']}&turn=9"
        response = await live.post_twilio(
            path, params, sign=signature is not None, signature=signature
        )
        status = await live.post_twilio(
            f"/twilio/status?call_id={started['call_id']}",
            {"CallSid": started["twilio_sid"], "CallStatus": "ringing"},
            sign=signature is not None,
            signature=signature,
        )
        after = await _stored(live, started["call_id"])
    assert response.status_code == 403
    assert status.status_code == 403
    assert after == before


async def test_signature_for_another_url_is_403(live_app: Any) -> None:
    async with live_app() as live:
        params = {"CallSid": "CA" + "0" * 32}
        forged = live.sign(live.base_url + "/twilio/status", params)
        response = await live.post_twilio("/twilio/voice", params, signature=forged)
    assert response.status_code == 403


async def test_unknown_call_sid_hangs_up_and_stores_nothing(live_app: Any) -> None:
    async with live_app() as live:
        params = {"CallSid": "CA" + "f" * 32, "CallStatus": "in-progress", "SpeechResult": "yes"}
        response = await live.post_twilio("/twilio/voice", params)
        total = (await live.http.get("/calls")).json()["total"]
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    assert "<Hangup" in response.text
    assert "<Gather" not in response.text
    assert total == 0


async def test_retried_webhook_does_not_store_the_turn_twice(live_app: Any) -> None:
    async with live_app(_hold_the_line()) as live:
        started = (await live.http.post("/call/start", json={"phone": CALLEE})).json()
        await live.carrier.wait_for(started["twilio_sid"], timeout=GUARD)
        call = await _stored(live, started["call_id"])
        # Replay turn 1 exactly as Twilio would retry it, twice at once and once after.
        params = {
            "CallSid": started["twilio_sid"],
            "SpeechResult": "Sure, go ahead.",
            "CallStatus": "in-progress",
        }
        path = f"/twilio/voice?call_id={started['call_id']}&turn=1"
        replies = await asyncio.gather(*(live.post_twilio(path, params) for _ in range(3)))
        again = await _stored(live, started["call_id"])
    assert {r.status_code for r in replies} == {200}
    assert len({r.text for r in replies}) == 1
    assert again["messages"] == call["messages"]
    assert again["transitions"] == call["transitions"]


async def test_a_new_turn_for_an_ended_call_hangs_up(live_app: Any) -> None:
    directory = CalleeDirectory.bundled()
    directory.register(CALLEE, ScriptedCallee(["Take me off your list."]))
    async with live_app(directory) as live:
        started = (await live.http.post("/call/start", json={"phone": CALLEE})).json()
        await live.carrier.wait_for(started["twilio_sid"], timeout=GUARD)
        before = await _stored(live, started["call_id"])
        response = await live.post_twilio(
            f"/twilio/voice?call_id={started['call_id']}&turn=7",
            {"CallSid": started["twilio_sid"], "SpeechResult": "hello?"},
        )
        after = await _stored(live, started["call_id"])
    assert "<Hangup" in response.text
    assert after["messages"] == before["messages"]


async def test_out_of_order_status_never_moves_a_finished_call_back(live_app: Any) -> None:
    async with live_app() as live:
        started = (await live.http.post("/call/start", json={"phone": "+14155550101"})).json()
        await live.carrier.wait_for(started["twilio_sid"], timeout=GUARD)
        late = await live.post_twilio(
            f"/twilio/status?call_id={started['call_id']}",
            {"CallSid": started["twilio_sid"], "CallStatus": "ringing"},
        )
        call = await _stored(live, started["call_id"])
    assert late.status_code == 204
    assert call["status"] == "completed"


async def test_api_token_guards_the_api_but_not_health_or_webhooks(live_app: Any) -> None:
    async with live_app(api_token="s3cret-token-" + "x" * 32) as live:
        ok = await live.http.get("/calls")
        live.http.headers.pop("Authorization")
        denied = await live.http.get("/calls")
        wrong = await live.http.get("/calls", headers={"Authorization": "Bearer nope"})
        start = await live.http.post("/call/start", json={"phone": "+14155550101"})
        health = await live.http.get("/healthz")
        hook = await live.post_twilio("/twilio/voice", {"CallSid": "CA" + "1" * 32})
    assert ok.status_code == 200
    assert denied.status_code == wrong.status_code == start.status_code == 401
    assert health.status_code == 200
    assert hook.status_code == 200


async def test_metrics_and_dashboard_show_the_calls(live_app: Any) -> None:
    async with live_app() as live:
        started = (await live.http.post("/call/start", json={"phone": "+14155550101"})).json()
        await live.carrier.wait_for(started["twilio_sid"], timeout=GUARD)
        metrics = await live.http.get("/metrics")
        page = await live.http.get("/")
        detail = await live.http.get(f"/ui/calls/{started['call_id']}")
    assert 'voiceagent_stage_ms_count{stage="webhook"}' in metrics.text
    assert 'voiceagent_calls_ended_total{end_reason="completed"} 1.0' in metrics.text
    assert started["call_id"][:8] in page.text
    assert "+14155550101" not in page.text  # numbers are masked
    assert "QUALIFY" in detail.text


async def test_listening_turn_is_a_speech_gather_with_the_scripts_hints(live_app: Any) -> None:
    async with live_app(_hold_the_line()) as live:
        started = (await live.http.post("/call/start", json={"phone": CALLEE})).json()
        await live.carrier.wait_for(started["twilio_sid"], timeout=GUARD)
        path = f"/twilio/voice?call_id={started['call_id']}&turn=0"
        replay = await live.post_twilio(path, {"CallSid": started["twilio_sid"]})
    root = ElementTree.fromstring(replay.text)
    gather = root.find("Gather")
    assert gather is not None
    assert gather.get("input") == "speech"
    assert gather.get("actionOnEmptyResult") == "true"
    assert gather.get("speechTimeout") == "auto"
    assert gather.get("timeout") == "4"
    assert gather.get("action", "").endswith(f"call_id={started['call_id']}&turn=1")
    assert "Northwind Payroll" in gather.get("hints", "")
    said = gather.find("Say")
    assert said is not None
    assert "Northwind Payroll" in (said.text or "")


def one_shape(response: Any) -> dict[str, Any]:
    """FastAPI's 422: a list of errors, each with where (`loc`), what (`msg`) and a `type`."""
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    assert isinstance(errors, list)
    assert errors
    for error in errors:
        assert isinstance(error["loc"], list)
        assert error["loc"][0] in ("body", "query", "path", "header")
        assert isinstance(error["msg"], str)
        assert isinstance(error["type"], str)
    first: dict[str, Any] = errors[0]
    return first


CSV = {"Content-Type": "text/csv"}


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "loc"),
    [
        ("POST", "/call/start", {"json": {"phone": "415555"}}, ["body", "phone"]),
        ("POST", "/call/start", {"json": {"phone": 5}}, ["body", "phone"]),
        (
            "POST",
            "/call/start",
            {"content": b"{", "headers": {"Content-Type": "application/json"}},
            ["body", 1],
        ),
        ("POST", "/dnc", {"json": {"phone": "+1415"}}, ["body", "phone"]),
        ("DELETE", "/dnc/call-me", {}, ["path", "phone"]),
        ("POST", "/dnc/import", {"content": b"\xff\xfe", "headers": CSV}, ["body"]),
        ("POST", "/dnc/import", {"files": {"other": (None, b"x")}}, ["body", "file"]),
        ("POST", "/dnc/import", {"content": b'"' + b"1" * 200_000, "headers": CSV}, ["body"]),
        ("GET", "/calls?limit=0", {}, ["query", "limit"]),
    ],
)
async def test_every_422_has_one_shape_naming_the_field(
    live_app: Any, method: str, path: str, kwargs: dict[str, Any], loc: list[Any]
) -> None:
    async with live_app() as live:
        response = await live.http.request(method, path, **kwargs)
    assert one_shape(response)["loc"] == loc


async def test_the_openapi_documents_the_422_shape(live_app: Any) -> None:
    async with live_app() as live:
        schema = (await live.http.get("/openapi.json")).json()
    refusals = {
        f"{method.upper()} {path}": operation["responses"]["422"]
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if "422" in operation["responses"]
    }
    assert {"POST /call/start", "GET /calls", "POST /dnc", "DELETE /dnc/{phone}"} <= set(refusals)
    for where, answer in refusals.items():
        ref = answer["content"]["application/json"]["schema"]["$ref"]
        assert ref == "#/components/schemas/HTTPValidationError", where


async def test_calls_are_filtered_like_the_dashboard(live_app: Any) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    async with live_app() as live:
        won, lost, busy, old = await seed_calls(
            live.settings.database_url,
            [
                {"outcome": "converted", "end_reason": "completed", "phone": "+14155550101"},
                {"outcome": "declined", "end_reason": "completed", "phone": "+14155550102"},
                {"status": "busy", "state": "INIT", "phone": "+14155550109"},
                {"created_at": now - timedelta(days=10), "phone": "+14155550101"},
            ],
        )

        async def ids(query: str) -> set[str]:
            response = await live.http.get(f"/calls?{query}")
            assert response.status_code == 200, response.text
            body = response.json()
            assert body["total"] == len(body["calls"])
            return {call["call_id"] for call in body["calls"]}

        found = {
            query: await ids(query)
            for query in (
                "status=busy",
                "outcome=converted",
                "outcome=none",
                "end_reason=completed",
                "state=INIT",
                f"since={(now - timedelta(days=1)).date()}",
                f"until={(now - timedelta(days=5)).date()}",
                "until=9999-12-31",
                "phone=%2B14155550101",
                "phone=%2B1%20(415)%20555-0101",
                "status=completed&outcome=declined",
            )
        }
    assert found == {
        "status=busy": {busy},
        "outcome=converted": {won},
        "outcome=none": {busy, old},
        "end_reason=completed": {won, lost},
        "state=INIT": {busy},
        f"since={(now - timedelta(days=1)).date()}": {won, lost, busy},
        f"until={(now - timedelta(days=5)).date()}": {old},
        "until=9999-12-31": {won, lost, busy, old},
        "phone=%2B14155550101": {won, old},
        "phone=%2B1%20(415)%20555-0101": {won, old},
        "status=completed&outcome=declined": {lost},
    }


@pytest.mark.parametrize(
    ("query", "loc"),
    [
        ("status=nonsense", ["query", "status"]),
        ("outcome=won", ["query", "outcome"]),
        ("end_reason=bored", ["query", "end_reason"]),
        ("state=DONE", ["query", "state"]),
        ("since=yesterday", ["query", "since"]),
        ("until=2024-02-30", ["query", "until"]),
        ("until=%C2%B2", ["query", "until"]),
        ("phone=call-me", ["query", "phone"]),
        ("limit=%C2%B2", ["query", "limit"]),
        ("offset=99999999999999999999999", ["query", "offset"]),
        ("colour=red", ["query", "colour"]),  # an unknown filter is refused, not ignored
    ],
)
async def test_a_bad_call_filter_is_422_naming_it(
    live_app: Any, query: str, loc: list[str]
) -> None:
    async with live_app() as live:
        response = await live.http.get(f"/calls?{query}")
    assert one_shape(response)["loc"] == loc
