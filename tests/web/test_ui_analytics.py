"""Analytics numbers: KPIs and the funnel agree with the stored calls and transitions; status and
latency per UTC day; the SVG charts carry their numbers in words."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from statistics import mean
from typing import Any

import pytest
from tests.web.test_ui_calls import NOW, seed_calls

from voiceagent.db import analytics_repo
from voiceagent.db.dashboard_repo import STATUSES, CallFilter
from voiceagent.db.engine import create_engine, create_sessions
from voiceagent.web.ui import charts

PERSONAS = ("+14155550101", "+14155550102", "+14155550103", "+14155550109", "+14155550104")


async def figures(url: str, flt: CallFilter) -> analytics_repo.Analytics:
    engine = create_engine(url)
    try:
        async with create_sessions(engine)() as session:
            return await analytics_repo.analytics(session=session, flt=flt)
    finally:
        await engine.dispose()


async def test_kpis_and_funnel_match_the_stored_calls(live_app: Any) -> None:
    async with live_app() as live:
        calls = [await live.run_call(number) for number in PERSONAS]
        result = await figures(live.settings.database_url, CallFilter())
        page = await live.http.get("/ui/analytics")

    answered = [c for c in calls if c["answered_at"]]
    converted = [c for c in calls if c["outcome"] == "converted"]
    durations = [c["duration_seconds"] for c in calls if c["duration_seconds"] is not None]
    k = result.kpis
    assert (k.calls, k.connected, k.converted) == (len(calls), len(answered), len(converted))
    assert k.average_duration == pytest.approx(mean(durations))
    assert k.connect_rate == pytest.approx(len(answered) / len(calls))
    assert k.conversion == pytest.approx(len(converted) / len(answered))

    def reached(state: str) -> int:
        return sum(1 for c in calls if any(t["to_state"] == state for t in c["transitions"]))

    expected = [len(calls)] + [reached(s) for s in ("INTRO", "QUALIFY", "PITCH", "CLOSE")]
    expected.append(len(converted))
    assert [step.reached for step in result.funnel] == expected
    assert [step.state for step in result.funnel][-1] == "converted"
    for before, step in zip(result.funnel, result.funnel[1:], strict=False):
        assert step.dropped == before.reached - step.reached
        assert step.rate == pytest.approx(step.reached / before.reached)

    outcomes = dict(result.outcomes)
    assert outcomes == {
        "converted": len(converted),
        "declined": 1,
        "none": len(calls) - len(converted) - 1,
    }
    assert dict(result.end_reasons)["not_interested"] == 1
    assert f'<span class="kpi-value" id="kpi-calls">{len(calls)}</span>' in page.text
    assert '<svg class="chart"' in page.text


async def test_status_and_latency_by_utc_day(live_app: Any) -> None:
    two_days_ago = NOW - timedelta(days=2)
    async with live_app() as live:
        await seed_calls(
            live.settings.database_url,
            [
                {"created_at": two_days_ago, "latencies": [10.0, 20.0, 30.0, 40.0]},
                {"created_at": two_days_ago, "status": "busy", "state": "INIT"},
                {"created_at": NOW, "latencies": [100.0]},
                {"created_at": NOW - timedelta(days=40), "latencies": [999.0]},
                {"created_at": NOW, "is_test": True, "status": "no_answer", "state": "INIT"},
            ],
        )
        flt = CallFilter(kind="live").with_range(two_days_ago.date(), NOW.date())
        result = await figures(live.settings.database_url, flt)
        page = await live.http.get(
            f"/ui/analytics?since={two_days_ago.date()}&until={NOW.date()}&kind=live"
        )
    assert result.status_by_day == [
        (two_days_ago.date(), {"completed": 1, "busy": 1}),
        (NOW.date(), {"completed": 1}),
    ]
    first, second = result.latency_by_day
    assert (first.day, first.p50, first.p90, first.turns) == (
        two_days_ago.date(),
        25.0,
        pytest.approx(37.0),
        4,
    )
    assert (second.p50, second.p90, second.turns) == (100.0, 100.0, 1)
    assert result.kpis.calls == 3
    assert page.status_code == 200
    assert "37.0 ms" in page.text


async def test_empty_range_draws_empty_charts(live_app: Any) -> None:
    async with live_app() as live:
        page = await live.http.get("/ui/analytics?since=2001-01-01&until=2001-01-02")
    assert page.status_code == 200
    assert "No calls in this range." in page.text
    assert '<span class="kpi-value" id="kpi-connect">—</span>' in page.text


def test_charts_describe_their_numbers_and_escape_labels() -> None:
    svg = charts.bars("b", "Calls <by> outcome", [("<converted>", 3, "3"), ("none", 0, "0")])
    assert 'role="img"' in svg
    assert 'aria-labelledby="b-t b-d"' in svg
    assert '<title id="b-t">Calls &lt;by&gt; outcome</title>' in svg
    assert "&lt;converted&gt;: 3; none: 0" in svg
    assert "<converted>" not in svg
    assert "No calls in this range." in charts.bars("e", "Empty", [])


def test_percentiles_interpolate() -> None:
    assert analytics_repo.percentiles([10.0, 20.0, 30.0, 40.0]) == (25.0, pytest.approx(37.0))
    assert analytics_repo.percentiles([5.0]) == (5.0, 5.0)


def _texts_outside_the_frame(svg: str) -> list[str]:
    """Each <text> whose extent, at 0.6 em a character (wider than a sans-serif's average glyph
    at the charts' 14 px), falls outside the viewBox: what a browser would cut off."""
    width = float(re.search(r'viewBox="0 0 ([\d.]+) ', svg).group(1))  # type: ignore[union-attr]
    outside = []
    for x, anchor, text in re.findall(
        r'<text x="([\d.-]+)" y="[\d.-]+" text-anchor="(\w+)">([^<]*)</text>', svg
    ):
        extent = len(html.unescape(text)) * 14 * 0.6
        start = {"start": 0.0, "middle": extent / 2, "end": extent}[anchor]
        if float(x) - start < 0 or float(x) - start + extent > width:
            outside.append(text)
    return outside


def test_chart_labels_and_axis_values_are_drawn_whole() -> None:
    reasons = [
        ("handoff unconfigured", 12, "12 (40%)"),
        ("callback requested", 30, "30 (100%)"),
        ("not interested", 3, "3 (10%)"),
    ]
    days = [date(2026, 3, d) for d in (1, 2, 3)]
    latency = {"p50": [120.4, 180.9, 95.0], "p90": [1480.2, 2360.7, 1999.0]}
    stacked = [(day, {"completed": 7, "in_progress": 2, "no_answer": 1}) for day in days]
    charts_drawn = [
        charts.bars("reasons", "Calls by end reason", reasons),
        charts.lines("latency", "Turn latency", days, {"p50": latency["p50"]}, " ms"),
        charts.lines("latency90", "Turn latency", days, latency, " ms"),
        charts.stacked_days("status", "Calls per day", stacked, list(STATUSES)),
    ]
    for svg in charts_drawn:
        assert _texts_outside_the_frame(svg) == [], svg
    # The axis ends on a round value whose half is whole, never on the data's maximum.
    assert ">200 ms</text>" in charts_drawn[1]
    assert ">100 ms</text>" in charts_drawn[1]
    assert ">4,000 ms</text>" in charts_drawn[2]
    assert "180.9 ms" in charts_drawn[1]  # the exact figure is in the description
