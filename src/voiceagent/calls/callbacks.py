"""Twilio's other callbacks: the `<Dial>` result of a transfer, and the fallback URL."""

from __future__ import annotations

from voiceagent.calls.context import Context
from voiceagent.calls.turn.decide import Decider, closing_request
from voiceagent.db import calls_repo
from voiceagent.funnel import Cause, EndReason, Line
from voiceagent.providers.twilio import twiml


async def record_dial(
    ctx: Context, *, call_id: str | None, sid: str, result: tuple[str, int | None] | None
) -> str:
    """Store how the transferred leg went; if no one took it, say so before hanging up."""
    log = ctx.log.bind(call_id=call_id, call_sid=sid, dial_status=result[0] if result else None)
    if not call_id or result is None:
        log.warning("dial_result_ignored")
        return twiml.hang_up()
    status, duration = result
    async with ctx.sessions() as session, session.begin():
        row = await calls_repo.get_call(session=session, call_id=call_id, lock=True)
        if row is None:
            log.warning("dial_result_for_unknown_call")
            return twiml.hang_up()
        row.dial_status = status
        row.dial_duration_seconds = duration
        lead = {str(k): str(v) for k, v in (row.lead or {}).items()}
    log.info("transfer_result")
    if status in ("completed", "answered"):
        return twiml.hang_up()
    sorry = ctx.fallback.compose(
        closing_request(
            call_id, (Line.CANNOT_TRANSFER, Line.GOODBYE), EndReason.HANDOFF_UNCONFIGURED, lead
        )
    )
    return twiml.hang_up(twiml.Spoken(sorry))


async def answer_fallback(
    ctx: Context, decider: Decider, *, call_id: str | None, sid: str, error: str
) -> str:
    """Twilio could not use our answer to a turn: the funnel's stop, and a polite goodbye."""
    log = ctx.log.bind(call_id=call_id, call_sid=sid)
    log.error("twilio_fallback", error=error)
    lead: dict[str, str] = {}
    if call_id:
        await decider.stop(
            Cause.CARRIER_FAILED,
            call_id=call_id,
            sid=sid,
            error=f"Twilio fallback: {error}",
            log=log,
        )
        async with ctx.sessions() as session:
            row = await calls_repo.get_call(session=session, call_id=call_id)
            if row is not None:
                lead = {str(k): str(v) for k, v in (row.lead or {}).items()}
    goodbye = ctx.fallback.compose(
        closing_request(call_id, (Line.GOODBYE,), EndReason.TELEPHONY_ERROR, lead)
    )
    return twiml.hang_up(twiml.Spoken(goodbye))
