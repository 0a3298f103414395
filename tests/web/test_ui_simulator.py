"""The simulator over HTTP: a test call played by posting replies, streamed back as server-sent
events read from the database; the browser callee; the page when the app dials real phones."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import pytest
from tests.conftest import CLIENT_TIMEOUT, GUARD, until

from voiceagent.intent.local import LocalClassifier
from voiceagent.providers.base import OutboundCall, Providers
from voiceagent.providers.scripted import ScriptedLanguage
from voiceagent.providers.simulated import HANG_UP
from voiceagent.script.model import load_script
from voiceagent.settings import Settings
from voiceagent.web.app import create_app
from voiceagent.web.server import serve_in_background
from voiceagent.web.ui.desk import NUMBER_POOL, BrowserCallee

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
Event = tuple[str, str, str]  # (event, id, data)


async def csrf_from(http: httpx.AsyncClient, path: str) -> str:
    found = CSRF.search((await http.get(path)).text)
    assert found
    return found.group(1)


async def start_test_call(http: httpx.AsyncClient, **form: str) -> str:
    csrf = await csrf_from(http, "/ui/simulator")
    response = await http.post("/ui/simulator/calls", data={"csrf_token": csrf, **form})
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert re.fullmatch(r"/ui/simulator/[0-9a-f-]{36}", location)
    return location.rsplit("/", 1)[-1]


async def read_events(
    http: httpx.AsyncClient, url: str, sink: list[Event], headers: Mapping[str, str] | None = None
) -> None:
    """Collect the stream's events until it says `end`."""
    event, ident, data = "message", "", []
    async with http.stream("GET", url, headers=headers, timeout=30) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("id: "):
                ident = line[4:]
            elif line.startswith("data: "):
                data.append(line[6:])
            elif not line and data:
                sink.append((event, ident, "\n".join(data)))
                if event == "end":
                    return
                event, ident, data = "message", "", []


async def wait_for(condition: Callable[[], bool]) -> None:
    await until(condition, what="the streamed turns")


async def reply(http: httpx.AsyncClient, call_id: str, csrf: str, **form: str) -> str:
    response = await http.post(
        f"/ui/simulator/{call_id}/reply",
        data=form,
        headers={"HX-Request": "true", "X-CSRF-Token": csrf},
    )
    assert response.status_code == 200
    return response.text


@pytest.mark.parametrize("transport", ["gather", "relay"])
async def test_a_test_call_played_over_http_streams_its_turns(
    live_app: Any, transport: str
) -> None:
    async with (
        live_app(voice_transport=transport) as live,
        httpx.AsyncClient(base_url=live.base_url, timeout=CLIENT_TIMEOUT) as http,
    ):
        call_id = await start_test_call(http, lead_name="Robin", lead_company="Acme")
        csrf = await csrf_from(http, f"/ui/simulator/{call_id}")
        events: list[Event] = []
        reader = asyncio.create_task(read_events(http, f"/ui/calls/{call_id}/stream", events))

        def turns() -> list[Event]:
            return [e for e in events if e[0] == "turn"]

        await wait_for(lambda: len(turns()) == 1)
        assert "Robin" in turns()[0][2]
        assert await reply(http, call_id, csrf, quick="yes") == ""
        await wait_for(lambda: len(turns()) == 3)  # the caller's line, then the agent's
        assert await reply(http, call_id, csrf, text="   ") != ""  # nothing typed: a hint
        assert await reply(http, call_id, csrf, quick="hang_up") == ""
        await asyncio.wait_for(reader, GUARD)
        after = await reply(http, call_id, csrf, text="Hello?")
        stored = (await live.http.get(f"/calls/{call_id}")).json()

    assert [e[1] for e in turns()] == ["1", "2", "3"]
    assert "Yes, sure, go ahead." in turns()[1][2]
    assert "intent-interested" in turns()[1][2]
    statuses = [e[2] for e in events if e[0] == "status"]
    # QUALIFY was reached, then the hang-up ended the call from there.
    assert any('aria-current="step"><span class="step-name">QUALIFY' in s for s in statuses)
    assert "QUALIFY → END" in statuses[-1]
    assert "caller hung up" in statuses[-1]
    assert events[-1][0] == "end"
    assert "has ended" in after
    assert (stored["status"], stored["end_reason"], stored["is_test"]) == (
        "completed",
        "caller_hung_up",
        True,
    )
    assert stored["lead"] == {"source": "simulator", "name": "Robin", "company": "Acme"}
    assert stored["phone"] == NUMBER_POOL[0]


async def test_stream_resumes_after_the_last_event_id(live_app: Any) -> None:
    async with live_app() as live:
        call = await live.run_call("+14155550102")
        events: list[Event] = []
        url = f"/ui/calls/{call['call_id']}/stream"
        await read_events(live.http, url, events, headers={"Last-Event-ID": "3"})
    seqs = [int(e[1]) for e in events if e[0] == "turn"]
    assert seqs == [m["seq"] for m in call["messages"] if m["seq"] > 3]
    assert [e[0] for e in events][-2:] == ["status", "end"]


async def test_numbers_on_the_do_not_call_list_are_skipped(live_app: Any) -> None:
    async with (
        live_app() as live,
        httpx.AsyncClient(base_url=live.base_url, timeout=CLIENT_TIMEOUT) as http,
    ):
        csrf = await csrf_from(http, "/ui/dnc")
        await http.post("/ui/dnc", data={"phone": NUMBER_POOL[0], "csrf_token": csrf})
        first = await start_test_call(http)
        second = await start_test_call(http)  # the first still holds its number
        numbers = [(await live.http.get(f"/calls/{c}")).json()["phone"] for c in (first, second)]
        for call_id in (first, second):
            await reply(http, call_id, csrf, quick="hang_up")
    assert numbers == [NUMBER_POOL[1], NUMBER_POOL[2]]


async def test_browser_callee_answers_in_order_and_hangs_up_when_abandoned() -> None:
    callee = BrowserCallee(patience=0.05)
    callee.post("yes")
    callee.post(None)
    assert await callee.reply(["Hello"]) == "yes"
    assert await callee.reply(["Still there?"]) is None
    assert await callee.reply(["Hello?"]) is HANG_UP
    assert callee.answers == "answer"


class RealPhones:
    """Stands in for Twilio: the simulator must refuse to run on it."""

    name = "twilio"

    async def place_call(self, call: OutboundCall) -> str:
        raise AssertionError("the simulator must not dial real phones")

    def verify_signature(self, url: str, params: Mapping[str, str], signature: str) -> bool:
        return False


async def test_simulator_is_unavailable_on_real_telephony(
    make_settings: Callable[..., Settings],
) -> None:
    script = load_script(None)
    providers = Providers(
        telephony=RealPhones(), language=ScriptedLanguage(script), classifier=LocalClassifier()
    )

    def build(base_url: str) -> Any:
        settings = make_settings(public_base_url=base_url)
        return create_app(settings, providers, script=script, configure_logs=False)

    async with (
        serve_in_background(build) as server,
        httpx.AsyncClient(base_url=server.base_url, timeout=CLIENT_TIMEOUT) as http,
    ):
        page = await http.get("/ui/simulator")
        csrf = re.search(r'"X-CSRF-Token": "([^"]+)"', page.text)
        assert csrf is not None
        attempt = await http.post("/ui/simulator/calls", data={"csrf_token": csrf.group(1)})
    assert page.status_code == 200
    assert "The simulator is unavailable" in page.text
    assert "Start test call" not in page.text
    assert attempt.status_code == 409
