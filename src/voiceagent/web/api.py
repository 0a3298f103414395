"""The JSON API: start calls, list and read them. Thin: every route is one call into the service
(or, for the filtered list, into the dashboard's reads)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, status
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from voiceagent.calls.dashboard import END_REASONS, OUTCOMES, STATES, STATUSES, CallFilter
from voiceagent.errors import InvalidPhoneNumber
from voiceagent.phone import parse_phone
from voiceagent.web.deps import Authorized, Reads, Service
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

_CHOICES: dict[str, tuple[str, ...]] = {
    "status": STATUSES,
    "outcome": OUTCOMES,
    "end_reason": END_REASONS,
    "state": STATES,
}


def _choice(name: str, description: str | None = None) -> Any:
    return Field(None, description=description, json_schema_extra={"enum": [*_CHOICES[name]]})


def _e164(value: str) -> str:
    try:
        return parse_phone(value)
    except InvalidPhoneNumber as exc:
        raise PydanticCustomError("phone_number", str(exc)) from None


class CallQuery(BaseModel):
    """`GET /calls`: paging and the dashboard's filters. An unknown parameter is refused (422),
    so a misspelt filter never silently lists every call."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)
    status: str | None = _choice("status")
    outcome: str | None = _choice("outcome", "`none`: calls with no outcome")
    end_reason: str | None = _choice("end_reason")
    state: str | None = _choice("state")
    since: date | None = Field(None, description="the first UTC day, inclusive")
    until: date | None = Field(None, description="the last UTC day, inclusive")
    phone: Annotated[str, Field(max_length=32), AfterValidator(_e164)] | None = Field(
        None, description="the whole number, as `/call/start` takes it"
    )

    @field_validator(*_CHOICES)
    @classmethod
    def _known(cls, value: str | None, info: ValidationInfo) -> str | None:
        allowed = _CHOICES[info.field_name or ""]
        if value is not None and value not in allowed:
            raise PydanticCustomError(
                "enum", "expected one of: {allowed}", {"allowed": ", ".join(allowed)}
            )
        return value

    def filter(self) -> CallFilter:
        return CallFilter(
            status=self.status,
            outcome=self.outcome,
            end_reason=self.end_reason,
            state=self.state,
            since=self.since,
            until=self.until,
            phone=self.phone,
        )


@router.post(
    "/call/start",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Place a call",
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
        # A national number ("(415) 555-0173") is read in DEFAULT_REGION here, at the edge.
        phone = parse_phone(body.phone, service.ctx.settings.default_region)
        call = await service.start_call(
            phone=phone, lead=body.lead, idempotency_key=idempotency_key or None
        )
    return CallStarted(call_id=call.id, status=call.status, twilio_sid=call.twilio_sid)


@router.get("/calls", summary="List calls, newest first, filtered")
async def list_calls(reads: Reads, params: Annotated[CallQuery, Query()]) -> CallList:
    rows, total = await reads.find_calls(params.filter(), limit=params.limit, offset=params.offset)
    return CallList(calls=[CallSummary.of(row) for row in rows], total=total)


@router.post(
    "/calls/{call_id}/hangup",
    summary="End a live call",
    responses={404: {"model": Problem}, 409: {"model": Problem}, 502: {"model": Problem}},
)
async def hang_up_call(call_id: str, service: Service) -> CallDetail:
    """Ends the call at the carrier; `end_reason` becomes `operator_hangup`. 409 when it is
    already over."""
    return CallDetail.of_detail(await service.hang_up(call_id))


@router.get(
    "/calls/{call_id}",
    summary="One call with its messages and transitions",
    responses={404: {"model": Problem}},
)
async def get_call(call_id: str, service: Service) -> CallDetail:
    return CallDetail.of_detail(await service.get_call(call_id))
