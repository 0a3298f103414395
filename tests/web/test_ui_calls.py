"""The calls table's filters, search, paging and CSV export, and a call's page and JSON download,
over HTTP against the real app (no browser)."""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from voiceagent.calls.dashboard import CallFilter
from voiceagent.db.engine import create_engine, create_sessions
from voiceagent.db.tables import CallRow, MessageRow
from voiceagent.web.ui.calls import CSV_COLUMNS, EXPORT_BATCH, PAGE_SIZE

BUYER, SCEPTIC, NOT_INTERESTED, BUSY = (
    "+14155550101",
    "+14155550102",
    "+14155550103",
    "+14155550109",
)
NOW = datetime.now(UTC).replace(microsecond=0)


async def seed_calls(url: str, rows: Sequence[dict[str, Any]]) -> list[str]:
    """Store finished calls straight into the database: days ago, live ones, many at once.

    A row's `latencies` become its agent messages' turn latencies.
    """
    engine = create_engine(url)
    ids = []
    try:
        async with create_sessions(engine)() as session, session.begin():
            for given in rows:
                values = dict(given)
                latencies = values.pop("latencies", [])
                call = CallRow(
                    **{
                        "id": str(uuid.uuid4()),
                        "phone": "+14155550188",
                        "lead": {},
                        "telephony": "twilio",
                        "is_test": False,
                        "status": "completed",
                        "state": "END",
                        "progress": {},
                        "created_at": NOW,
                        **values,
                    }
                )
                ids.append(call.id)
                session.add(call)
                session.add_all(
                    MessageRow(
                        call_id=call.id,
                        seq=seq,
                        role="agent",
                        text="Hello.",
                        state="INTRO",
                        latency_ms=ms,
                        created_at=call.created_at,
                    )
                    for seq, ms in enumerate(latencies, 1)
                )
    finally:
        await engine.dispose()
    return ids


def exported(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="calls.csv"' in response.headers["content-disposition"]
    reader = csv.DictReader(io.StringIO(response.text))
    assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
    return list(reader)


async def personas(live: Any) -> dict[str, dict[str, Any]]:
    return {
        number: await live.run_call(number) for number in (BUYER, SCEPTIC, NOT_INTERESTED, BUSY)
    }


# (query string, the numbers whose calls it selects); one set of calls serves every row.
FILTERS: list[tuple[str, set[str]]] = [
    ("outcome=converted", {BUYER}),
    ("outcome=declined", {SCEPTIC}),
    ("outcome=none", {NOT_INTERESTED, BUSY}),
    ("status=busy", {BUSY}),
    ("end_reason=not_interested", {NOT_INTERESTED}),
    ("state=INIT", {BUSY}),
    ("status=completed&outcome=none", {NOT_INTERESTED}),
    ("kind=test", {BUYER, SCEPTIC, NOT_INTERESTED, BUSY}),
    ("kind=live", set()),
    ("q=555-0102", {SCEPTIC}),
    ("q=%2B1%20(415)%20555-0103", {NOT_INTERESTED}),
    ("status=nonsense", {BUYER, SCEPTIC, NOT_INTERESTED, BUSY}),  # a stale value is ignored
]


async def test_filters_select_the_listed_and_exported_rows(live_app: Any) -> None:
    async with live_app() as live:
        await personas(live)
        for query, expected in FILTERS:
            rows = exported(await live.http.get(f"/ui/calls.csv?{query}"))
            page = await live.http.get(f"/?{query}")
            assert {row["phone"] for row in rows} == expected, query
            listed = len(re.findall(r'<td data-label="Started">', page.text))
            assert listed == len(expected), query


async def test_search_finds_a_call_by_id_prefix_and_by_sid(live_app: Any) -> None:
    async with live_app() as live:
        calls = await personas(live)
        sceptic = calls[SCEPTIC]
        by_id = exported(await live.http.get(f"/ui/calls.csv?q={sceptic['call_id'][:8]}"))
        by_sid = exported(await live.http.get(f"/ui/calls.csv?q={sceptic['twilio_sid']}"))
    assert [row["call_id"] for row in by_id] == [sceptic["call_id"]]
    assert [row["call_id"] for row in by_sid] == [sceptic["call_id"]]


async def test_csv_rows_carry_the_table_figures(live_app: Any) -> None:
    async with live_app() as live:
        call = await live.run_call(BUYER)
        (row,) = exported(await live.http.get("/ui/calls.csv"))
    agent = [m for m in call["messages"] if m["role"] == "agent"]
    assert row["call_id"] == call["call_id"]
    assert (row["status"], row["final_state"], row["outcome"], row["end_reason"]) == (
        "completed",
        "END",
        "converted",
        "completed",
    )
    assert row["test_call"] == "yes"
    assert int(row["turns"]) == len(agent)
    assert float(row["median_turn_latency_ms"]) > 0


async def test_date_range_and_live_calls(live_app: Any) -> None:
    async with live_app() as live:
        await seed_calls(
            live.settings.database_url,
            [
                {"phone": "+14155550181", "created_at": NOW - timedelta(days=10)},
                {"phone": "+14155550182", "created_at": NOW - timedelta(days=3)},
                {"phone": "+14155550183", "is_test": True, "telephony": "simulated"},
            ],
        )
        day = (NOW - timedelta(days=3)).date()
        one_day = exported(await live.http.get(f"/ui/calls.csv?since={day}&until={day}"))
        since = exported(await live.http.get(f"/ui/calls.csv?since={day}"))
        until = exported(await live.http.get(f"/ui/calls.csv?until={day}"))
        live_only = exported(await live.http.get("/ui/calls.csv?kind=live"))
    assert [r["phone"] for r in one_day] == ["+14155550182"]
    assert [r["phone"] for r in since] == ["+14155550183", "+14155550182"]
    assert [r["phone"] for r in until] == ["+14155550182", "+14155550181"]
    assert {r["phone"] for r in live_only} == {"+14155550181", "+14155550182"}


async def test_paging_is_server_side_and_export_has_every_row(live_app: Any) -> None:
    count = EXPORT_BATCH + 7
    async with live_app() as live:
        await seed_calls(
            live.settings.database_url,
            [{"created_at": NOW - timedelta(seconds=i)} for i in range(count)],
        )
        first = await live.http.get("/?kind=live")
        last_page = (count + PAGE_SIZE - 1) // PAGE_SIZE
        last = await live.http.get(f"/?kind=live&page={last_page}")
        rows = exported(await live.http.get("/ui/calls.csv?kind=live"))
    assert f"Showing 1\u2013{PAGE_SIZE}," in first.text
    assert 'rel="next"' in first.text
    assert len(re.findall(r'<td data-label="Started">', first.text)) == PAGE_SIZE
    remainder = count - (last_page - 1) * PAGE_SIZE
    assert len(re.findall(r'<td data-label="Started">', last.text)) == remainder
    assert 'rel="next"' not in last.text
    assert len(rows) == count
    assert len({r["call_id"] for r in rows}) == count  # keyset paging: no row twice


def test_filter_round_trips_through_the_query_string() -> None:
    flt = CallFilter.from_query(
        {"status": "busy", "kind": "test", "since": "2025-01-02", "q": " 0102 ", "x": "1"}
    )
    assert flt == CallFilter(status="busy", kind="test", since=date(2025, 1, 2), q="0102")
    assert CallFilter.from_query(dict(pair.split("=") for pair in flt.query().split("&"))) == flt
    assert CallFilter.from_query({"since": "yesterday", "kind": "both"}) == CallFilter()
    assert not CallFilter().active
    assert "page=3" in flt.query(page=3)


async def test_call_page_and_json_download(live_app: Any) -> None:
    async with live_app() as live:
        call = await live.run_call(SCEPTIC)
        page = await live.http.get(f"/ui/calls/{call['call_id']}")
        download = await live.http.get(f"/ui/calls/{call['call_id']}/json")
        missing = await live.http.get("/ui/calls/no-such-call")
    assert page.status_code == 200
    assert '<div id="transcript" class="transcript" tabindex="0" role="log" aria-live="polite"' in (
        page.text
    )
    assert "data-stream" not in page.text  # a finished call has nothing left to stream
    for transition in call["transitions"]:
        assert f"{transition['from_state']} → {transition['to_state']}" in page.text
    assert download.headers["content-disposition"] == (
        f'attachment; filename="call-{call["call_id"]}.json"'
    )
    assert download.json() == call
    assert missing.status_code == 404
    assert "No such call" in missing.text
