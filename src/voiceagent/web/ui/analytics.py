"""Analytics: KPIs, the funnel, outcome and end-reason breakdowns, status and latency by day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from voiceagent.calls.dashboard import STATUSES, CallFilter
from voiceagent.web.deps import Reads
from voiceagent.web.ui import charts
from voiceagent.web.ui.auth import Operator
from voiceagent.web.ui.render import fmt_pct, page

router = APIRouter(dependencies=[Operator])
DEFAULT_DAYS = 14


def _counted(rows: list[tuple[str, int]], none: str) -> list[tuple[str, int, str]]:
    return [(none if key == "none" else key.replace("_", " "), n, str(n)) for key, n in rows]


@router.get("/ui/analytics", response_class=HTMLResponse)
async def analytics_page(request: Request, reads: Reads) -> HTMLResponse:
    today = datetime.now(UTC).date()
    asked = CallFilter.from_query(request.query_params)
    # Only the range and test/live apply here; the funnel is about every call in the range.
    flt = CallFilter(kind=asked.kind).with_range(
        asked.since or today - timedelta(days=DEFAULT_DAYS - 1), asked.until or today
    )
    figures = await reads.analytics(flt)
    funnel_rows = [
        (
            step.state,
            step.reached,
            f"{step.reached}" + (f" ({fmt_pct(step.rate)})" if step.rate is not None else ""),
        )
        for step in figures.funnel
    ]
    statuses = [s for s in STATUSES if any(s in c for _, c in figures.status_by_day)]
    latency_days = [d.day for d in figures.latency_by_day]
    values = {
        "title": "Analytics",
        "flt": flt,
        "a": figures,
        "statuses": statuses,
        "funnel_svg": charts.bars("funnel", "Calls reaching each funnel state", funnel_rows),
        "outcome_svg": charts.bars(
            "outcomes",
            "Calls by outcome",
            _counted(figures.outcomes, "no outcome"),
        ),
        "reason_svg": charts.bars(
            "reasons",
            "Calls by end reason",
            _counted(figures.end_reasons, "not ended"),
            charts.PALETTE[3],
        ),
        "status_svg": charts.stacked_days(
            "status-days", "Calls per day by status", figures.status_by_day, statuses
        ),
        "latency_svg": charts.lines(
            "latency-days",
            "Turn latency per day, p50 and p90",
            latency_days,
            {
                "p50": [d.p50 for d in figures.latency_by_day],
                "p90": [d.p90 for d in figures.latency_by_day],
            },
            " ms",
        ),
    }
    return page(request, "analytics.html", values)
