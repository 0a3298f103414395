"""API schemas (pydantic). ORM rows are converted here; tables never leave `db/` as JSON."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from voiceagent.db.tables import CallRow
from voiceagent.web.inputs import is_utf8

# Paging stops here: past it a database integer overflows (and no list is that long).
MAX_OFFSET = 2**31 - 1


class ClientInput(BaseModel):
    """A request body: every field, at any depth, keys included, is text UTF-8 can encode."""

    @field_validator("*", mode="before")
    @classmethod
    def _encodable(cls, value: Any) -> Any:
        if not is_utf8(value):
            raise PydanticCustomError(
                "unicode_text",
                "holds text that is not valid Unicode (a lone surrogate such as \\ud800)",
            )
        return value


class StartCall(ClientInput):
    model_config = ConfigDict(extra="forbid")

    phone: str = Field(min_length=1, max_length=32, examples=["+14155550123"])
    lead: dict[str, Any] = Field(default_factory=dict, max_length=50)

    @field_validator("lead")
    @classmethod
    def _small_lead(cls, lead: dict[str, Any]) -> dict[str, Any]:
        # The lead travels into prompts and onto the call row: keep it a handful of short fields.
        if len(json.dumps(lead, default=str)) > 4096:
            raise ValueError("lead is over 4096 characters as JSON; keep it to a few short fields")
        return lead


class CallStarted(BaseModel):
    call_id: str
    status: str
    twilio_sid: str | None


class Message(BaseModel):
    seq: int
    role: Literal["agent", "caller"]
    text: str
    state: str
    intent: str | None
    act: str | None = None  # caller messages: question:price, objection:call_later, answer, ...
    latency_ms: float | None
    stages: dict[str, float] = Field(default_factory=dict)
    interrupted: bool = False  # agent lines the caller spoke over: `text` is what was heard
    created_at: datetime


class Transition(BaseModel):
    from_state: str
    to_state: str
    intent: str | None
    at: datetime


class CallSummary(BaseModel):
    call_id: str
    phone: str
    status: str
    state: str
    end_reason: str | None
    outcome: str | None
    twilio_sid: str | None
    telephony: str
    is_test: bool
    lead: dict[str, Any]
    created_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    duration_seconds: int | None
    dial_status: str | None = None  # a transfer's own leg: completed, busy, no-answer, failed
    error: str | None = None
    # The qualifying answers by the script's field names ({"employees": 40, ...}).
    answers: dict[str, Any] = Field(default_factory=dict)
    callback_at: datetime | None = None  # the callback the caller asked for (UTC)
    callback_note: str | None = None  # that time as the agent repeated it back
    follow_up_to: str | None = None  # the address a follow-up email goes to
    meeting_at: datetime | None = None  # the meeting time a yes at the close named (UTC)
    meeting_note: str | None = None  # that time as the agent said it back

    @classmethod
    def of(cls, row: CallRow) -> CallSummary:
        return cls(
            call_id=row.id,
            phone=row.phone,
            status=row.status,
            state=row.state,
            end_reason=row.end_reason,
            outcome=row.outcome,
            twilio_sid=row.twilio_sid,
            telephony=row.telephony,
            is_test=row.is_test,
            lead=row.lead or {},
            created_at=row.created_at,
            answered_at=row.answered_at,
            ended_at=row.ended_at,
            duration_seconds=row.duration_seconds,
            dial_status=row.dial_status,
            error=row.error,
            answers=row.answers or {},
            callback_at=row.callback_at,
            callback_note=row.callback_note,
            follow_up_to=row.follow_up_to,
            meeting_at=row.meeting_at,
            meeting_note=row.meeting_note,
        )


class CallDetail(CallSummary):
    messages: list[Message]
    transitions: list[Transition]
    extracted: dict[str, Any] = Field(default_factory=dict)  # SPEC's name for `answers`

    @classmethod
    def of_detail(cls, row: CallRow) -> CallDetail:
        base = CallSummary.of(row).model_dump()
        return cls(
            **base,
            extracted=base["answers"],
            messages=[
                Message(
                    seq=m.seq,
                    role="agent" if m.role == "agent" else "caller",
                    text=m.text,
                    state=m.state,
                    intent=m.intent,
                    act=m.act,
                    latency_ms=m.latency_ms,
                    stages=m.stages or {},
                    interrupted=bool(m.interrupted),
                    created_at=m.created_at,
                )
                for m in row.messages
            ],
            transitions=[
                Transition(from_state=t.from_state, to_state=t.to_state, intent=t.intent, at=t.at)
                for t in row.transitions
            ],
        )


class CallList(BaseModel):
    calls: list[CallSummary]
    total: int


class Problem(BaseModel):
    detail: str
