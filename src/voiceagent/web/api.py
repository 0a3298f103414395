"""The JSON API: start calls, list and read them. Thin: every route is one call into the service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, status

from voiceagent.web.deps import Authorized, Service
from voiceagent.web.inputs import phone_at
from voiceagent.web.limits import limit_call_starts
from voiceagent.web.schemas import (
    MAX_OFFSET,
    CallDetail,
    CallList,
    CallStarted,
    CallSummary,
    Problem,
    StartCall,
)

router = APIRouter(dependencies=[Authorized])


@router.post(
    "/call/start",
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[Depends(limit_call_starts)],
    responses={
        409: {"model": Problem},
        413: {"model": Problem},
        429: {"model": Problem},
        502: {"model": Problem},
    },
)
async def start_call(
    body: StartCall,
    service: Service,
    idempotency_key: Annotated[
        str | None,
        Header(
            max_length=200,
            description="The same key again answers with the same call. Empty is no key.",
        ),
    ] = None,
) -> CallStarted:
    with phone_at("body", "phone"):
        call = await service.start_call(
            phone=body.phone, lead=body.lead, idempotency_key=idempotency_key or None
        )
    return CallStarted(call_id=call.id, status=call.status, twilio_sid=call.twilio_sid)


@router.get("/calls")
async def list_calls(
    service: Service,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> CallList:
    rows, total = await service.list_calls(limit=limit, offset=offset)
    return CallList(calls=[CallSummary.of(row) for row in rows], total=total)


@router.get("/calls/{call_id}", responses={404: {"model": Problem}})
async def get_call(call_id: str, service: Service) -> CallDetail:
    return CallDetail.of_detail(await service.get_call(call_id))
