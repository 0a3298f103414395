"""The simulator: place a test call on the simulated carrier and play the callee from the page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from voiceagent.calls.dashboard import Snapshot
from voiceagent.calls.status import FINISHED
from voiceagent.errors import CallNotFound, CallRefused
from voiceagent.providers.simulated import HANG_UP, Reply
from voiceagent.web.deps import Service
from voiceagent.web.ui.auth import CsrfChecked, Operator
from voiceagent.web.ui.desk import NoFreeNumber, desk_for
from voiceagent.web.ui.render import page

router = APIRouter(dependencies=[Operator])

# (key, button label, what the callee says: text, None for silence, HANG_UP)
QUICK_REPLIES: tuple[tuple[str, str, Reply], ...] = (
    ("yes", "Yes", "Yes, sure, go ahead."),
    ("not_interested", "Not interested", "Sorry, I'm not interested."),
    ("later", "Call me later", "Can you call me later?"),
    ("silence", "Stay silent", None),
    ("hang_up", "Hang up", HANG_UP),
)
_QUICK = {key: reply for key, _, reply in QUICK_REPLIES}
MAX_REPLY = 500


def _start_page(request: Request, error: str | None = None, code: int = 200) -> HTMLResponse:
    available = desk_for(request) is not None
    values = {"title": "Simulator", "available": available, "error": error}
    return page(request, "simulator.html", values, status_code=code)


@router.get("/ui/simulator", response_class=HTMLResponse)
async def simulator_page(request: Request) -> HTMLResponse:
    return _start_page(request)


@router.post("/ui/simulator/calls", dependencies=[CsrfChecked], response_model=None)
async def start_test_call(
    request: Request,
    service: Service,
    lead_name: Annotated[str, Form(max_length=60)] = "",
    lead_company: Annotated[str, Form(max_length=80)] = "",
) -> Response:
    desk = desk_for(request)
    if desk is None:
        return _start_page(request, "This instance dials real phones.", status.HTTP_409_CONFLICT)
    lead = {"source": "simulator"}
    if lead_name.strip():
        lead["name"] = lead_name.strip()
    if lead_company.strip():
        lead["company"] = lead_company.strip()
    try:
        call_id = await desk.start(service, lead)
    except (NoFreeNumber, CallRefused) as exc:
        return _start_page(request, str(exc), status.HTTP_409_CONFLICT)
    return RedirectResponse(f"/ui/simulator/{call_id}", status.HTTP_303_SEE_OTHER)


@router.get("/ui/simulator/{call_id}", response_class=HTMLResponse)
async def test_call_page(request: Request, call_id: str, service: Service) -> HTMLResponse:
    try:
        call = await service.get_call(call_id)
    except CallNotFound:
        return page(request, "not_found.html", {"title": "No such call"}, status_code=404)
    desk = desk_for(request)
    values = {
        "title": "Simulator",
        "call": call,
        "snap": Snapshot.of(call),
        "live": call.status not in FINISHED,
        "playable": desk is not None and desk.has(call.id),
        "last_seq": max((m.seq for m in call.messages), default=0),
        "quick_replies": QUICK_REPLIES,
    }
    return page(request, "simulator_call.html", values)


@router.post(
    "/ui/simulator/{call_id}/reply", dependencies=[CsrfChecked], response_class=HTMLResponse
)
async def post_reply(
    request: Request,
    call_id: str,
    text: Annotated[str, Form(max_length=MAX_REPLY)] = "",
    quick: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    note = ""
    reply: Reply = text.strip()
    if quick in _QUICK:
        reply = _QUICK[quick]
    elif not reply:
        note = "Type what you say, or pick a quick reply (Stay silent to say nothing)."
    desk = desk_for(request)
    if not note and (desk is None or not desk.reply(call_id, reply)):
        note = (
            "This call has ended, or it was placed by another server instance: "
            "a test call can only be played from the instance that placed it."
        )
    if request.headers.get("hx-request"):
        return HTMLResponse(note)
    if note:
        return HTMLResponse(note, status_code=status.HTTP_409_CONFLICT)
    return RedirectResponse(f"/ui/simulator/{call_id}", status.HTTP_303_SEE_OTHER)
