"""Values that do not parse, in query strings and headers: ignored or refused with 422, never a
500 and never a stream that dies half-way."""

from __future__ import annotations

from typing import Any

import pytest
from tests.web.test_ui_simulator import Event, read_events

BUYER = "+14155550101"

# A page number, a day and counts a browser never sends: each page still opens.
ODD_PAGE_QUERIES = [
    "/?page=%C2%B2",  # "²": a digit to str.isdigit(), not to int()
    "/?page=" + "9" * 5000,
    "/?until=9999-12-31",  # the last day there is: its next day overflows
    "/?since=9999-12-31&until=9999-12-31",
    "/?since=0001-01-01",
    "/?until=%C2%B2",
    "/ui/analytics?until=9999-12-31",
    "/ui/analytics?since=9999-12-31",
    "/ui/analytics?since=0001-01-01&until=9999-12-31",
    "/ui/dnc?page=%C2%B2",
    "/ui/dnc?done=imported&added=%C2%B2&already=" + "9" * 5000,
]


@pytest.mark.parametrize("path", ODD_PAGE_QUERIES)
async def test_an_odd_query_value_is_ignored(live_app: Any, path: str) -> None:
    async with live_app() as live:
        await live.run_call(BUYER)
        response = await live.http.get(path)
    assert response.status_code == 200, response.text


async def test_the_last_day_there_is_selects_every_call_in_the_export(live_app: Any) -> None:
    async with live_app() as live:
        call = await live.run_call(BUYER)
        response = await live.http.get("/ui/calls.csv?until=9999-12-31")
    assert response.status_code == 200
    assert call["call_id"] in response.text


@pytest.mark.parametrize("after", ["99999999999999999999999", "-1", "%C2%B2"])
async def test_an_odd_stream_position_is_refused_before_the_stream(
    live_app: Any, after: str
) -> None:
    async with live_app() as live:
        call = await live.run_call(BUYER)
        response = await live.http.get(f"/ui/calls/{call['call_id']}/stream?after={after}")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "after"]


@pytest.mark.parametrize("resumed", ["²", "9" * 5000, "99999999999999999999999", "-3", "x"])
async def test_an_odd_last_event_id_replays_from_the_start(live_app: Any, resumed: str) -> None:
    async with live_app() as live:
        call = await live.run_call(BUYER)
        events: list[Event] = []
        url = f"/ui/calls/{call['call_id']}/stream"
        headers = {"Last-Event-ID": resumed.encode("latin-1")}
        await read_events(live.http, url, events, headers=headers)  # type: ignore[arg-type]
    seqs = [int(e[1]) for e in events if e[0] == "turn"]
    assert seqs == [m["seq"] for m in call["messages"]]
    assert [e[0] for e in events][-1] == "end"
