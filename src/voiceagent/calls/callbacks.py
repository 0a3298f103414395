"""Twilio's other callbacks: the `<Dial>` result of a transfer, and the fallback URL."""

from __future__ import annotations

from collections.abc import Mapping

from voiceagent.calls import twiml
from voiceagent.calls.context import Context
from voiceagent.db import repo
from voiceagent.db.tables import TransitionRow, utcnow
from voiceagent.funnel import EndReason, Line, State
from voiceagent.providers.base import LineRequest

DIAL_STATUSES = frozenset({"completed", "answered", "busy", "no-answer", "failed", "canceled"})


async def record_dial(ctx: Context, *, form: Mapping[str, str], call_id: str | None) -> str:
    """Store how the transferred leg went; if no one took it, say so before hanging up."""
    status = form.get("DialCallStatus", "")
    log = ctx.log.bind(call_id=call_id, call_sid=form.get("CallSid"), dial_status=status)
    if not call_id or status not in DIAL_STATUSES:
        log.warning("dial_result_ignored")
        return twiml.hang_up()
    async with ctx.sessions() as session, session.begin():
        row = await repo.get_call(session=session, call_id=call_id, lock=True)
        if row is None:
            log.warning("dial_result_for_unknown_call")
            return twiml.hang_up()
        row.dial_status = status
        duration = form.get("DialCallDuration", "")
        row.dial_duration_seconds = int(duration) if duration.isdigit() else None
        lead = {str(k): str(v) for k, v in (row.lead or {}).items()}
    log.info("transfer_result")
    if status in ("completed", "answered"):
        return twiml.hang_up()
    sorry = ctx.fallback.compose(
        LineRequest(
            call_id=call_id,
            turn=10_000,
            state=State.END,
            lines=(Line.CANNOT_TRANSFER, Line.GOODBYE),
            end_reason=EndReason.HANDOFF_UNCONFIGURED,
            lead=lead,
        )
    )
    return twiml.hang_up(twiml.Spoken(sorry))


async def answer_fallback(ctx: Context, *, form: Mapping[str, str], call_id: str | None) -> str:
    """Twilio could not use our answer to a turn: end politely and record why."""
    error = f"{form.get('ErrorCode', '?')} at {form.get('ErrorUrl', '?')}"
    log = ctx.log.bind(call_id=call_id, call_sid=form.get("CallSid"))
    lead: dict[str, str] = {}
    if call_id:
        async with ctx.sessions() as session, session.begin():
            row = await repo.get_call(session=session, call_id=call_id, lock=True)
            if row is not None:
                lead = {str(k): str(v) for k, v in (row.lead or {}).items()}
                if row.state != State.END.value:
                    session.add(
                        TransitionRow(
                            call_id=row.id,
                            seq=await repo.next_transition_seq(session=session, call_id=row.id),
                            from_state=row.state,
                            to_state=State.END.value,
                            at=utcnow(),
                        )
                    )
                    row.state = State.END.value
                    row.end_reason = EndReason.TELEPHONY_ERROR.value
                row.error = f"Twilio fallback: {error}"[:2000]
    log.error("twilio_fallback", error=error)
    goodbye = ctx.fallback.compose(
        LineRequest(
            call_id=call_id or "unknown",
            turn=10_000,
            state=State.END,
            lines=(Line.GOODBYE,),
            end_reason=EndReason.TELEPHONY_ERROR,
            lead=lead,
        )
    )
    return twiml.hang_up(twiml.Spoken(goodbye))
