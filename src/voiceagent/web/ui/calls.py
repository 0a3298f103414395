"""The calls table (filters in the URL, server-side paging, CSV export) and one call's page."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from urllib.parse import quote

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, StreamingResponse

from voiceagent.calls.dashboard import (
    END_REASONS,
    OUTCOMES,
    STATES,
    STATUSES,
    CallFilter,
    CallLine,
    Snapshot,
)
from voiceagent.calls.status import FINISHED
from voiceagent.errors import CallNotFound, CallRefused
from voiceagent.web.deps import Reads, Service
from voiceagent.web.inputs import ascii_int
from voiceagent.web.schemas import CallDetail
from voiceagent.web.ui.auth import CsrfChecked, Operator
from voiceagent.web.ui.render import page

router = APIRouter(dependencies=[Operator])
PAGE_SIZE = 25
EXPORT_BATCH = 500
CSV_COLUMNS = (
    "call_id",
    "started_at",
    "phone",
    "test_call",
    "status",
    "final_state",
    "outcome",
    "end_reason",
    "turns",
    "duration_seconds",
    "median_turn_latency_ms",
    "twilio_sid",
)


def page_number(raw: str | None) -> int:
    """The page asked for; 1 for anything that is not a page number (a stale or mangled URL)."""
    return ascii_int(raw, high=999_999) or 1


@router.get("/", response_class=HTMLResponse)
async def calls_page(request: Request, reads: Reads) -> HTMLResponse:
    flt = CallFilter.from_query(request.query_params)
    number = page_number(request.query_params.get("page"))
    lines, total = await reads.calls(flt, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)
    values = {
        "title": "Calls",
        "flt": flt,
        "lines": lines,
        "total": total,
        "page": number,
        "first": (number - 1) * PAGE_SIZE + 1,
        "last": (number - 1) * PAGE_SIZE + len(lines),
        "has_next": number * PAGE_SIZE < total,
        "choices": {
            "status": STATUSES,
            "outcome": OUTCOMES,
            "end_reason": END_REASONS,
            "state": STATES,
        },
    }
    return page(request, "calls.html", values)


def _csv_line(line: CallLine) -> list[str]:
    call = line.call
    return [
        call.id,
        call.created_at.isoformat(),
        call.phone,
        "yes" if call.is_test else "no",
        call.status,
        call.state,
        call.outcome or "",
        call.end_reason or "",
        str(line.turns),
        "" if call.duration_seconds is None else str(call.duration_seconds),
        "" if line.median_ms is None else f"{line.median_ms:.1f}",
        call.twilio_sid or "",
    ]


@router.get("/ui/calls.csv")
async def calls_csv(request: Request, reads: Reads) -> StreamingResponse:
    flt = CallFilter.from_query(request.query_params)

    async def rows() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        after = None
        while True:
            batch = await reads.calls_batch(flt, after=after, size=EXPORT_BATCH)
            writer.writerows(_csv_line(line) for line in batch)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if len(batch) < EXPORT_BATCH:
                return
            after = (batch[-1].call.created_at, batch[-1].call.id)

    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="calls.csv"'},
    )


@router.get("/ui/calls/{call_id}", response_class=HTMLResponse)
async def call_page(request: Request, call_id: str, service: Service) -> HTMLResponse:
    try:
        call = await service.get_call(call_id)
    except CallNotFound:
        return page(request, "not_found.html", {"title": "No such call"}, status_code=404)
    values = {
        "title": f"Call {call.id[:8]}",
        "call": call,
        "snap": Snapshot.of(call),
        "live": call.status not in FINISHED,
        "last_seq": max((m.seq for m in call.messages), default=0),
    }
    return page(request, "call.html", values)


@router.post("/ui/calls/{call_id}/hangup", dependencies=[CsrfChecked], response_model=None)
async def hang_up(request: Request, call_id: str, service: Service) -> Response:
    try:
        await service.hang_up(call_id)
    except CallNotFound:
        return page(request, "not_found.html", {"title": "No such call"}, status_code=404)
    except CallRefused:
        pass  # it ended on its own meanwhile: its page says how
    return RedirectResponse(f"/ui/calls/{quote(call_id, safe='')}", status.HTTP_303_SEE_OTHER)


@router.get("/ui/calls/{call_id}/json")
async def call_json(call_id: str, service: Service) -> JSONResponse:
    detail = CallDetail.of_detail(await service.get_call(call_id))
    return JSONResponse(
        detail.model_dump(mode="json"),
        headers={"Content-Disposition": f'attachment; filename="call-{detail.call_id}.json"'},
    )
