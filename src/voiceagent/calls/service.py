"""The call service: start a call, record Twilio's status callbacks, read calls back."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError

from voiceagent.calls import callbacks
from voiceagent.calls.audio import AudioStore, AudioStream
from voiceagent.calls.compliance import check_calling_hours
from voiceagent.calls.context import Context
from voiceagent.calls.turns import FINISHED, TurnRunner
from voiceagent.db import repo
from voiceagent.db.tables import CallRow, utcnow
from voiceagent.errors import CallNotFound, CallRefused, TelephonyError
from voiceagent.funnel import EndReason, State
from voiceagent.phone import mask_phone, parse_phone
from voiceagent.providers.base import OutboundCall

# Twilio's CallStatus -> ours. Terminal ones never change once stored.
TWILIO_STATUS: dict[str, str] = {
    "queued": "queued",
    "initiated": "queued",
    "ringing": "ringing",
    "in-progress": "in_progress",
    "answered": "in_progress",
    "completed": "completed",
    "busy": "busy",
    "failed": "failed",
    "no-answer": "no_answer",
    "canceled": "canceled",
}
_RANK = {"queued": 0, "ringing": 1, "in_progress": 2}


class CallService:
    def __init__(self, ctx: Context, audio: AudioStore | None = None) -> None:
        self.ctx = ctx
        self.audio = audio or AudioStore()
        self.turns = TurnRunner(ctx, self.audio)

    async def start_call(
        self, *, phone: str, lead: Mapping[str, Any], idempotency_key: str | None
    ) -> CallRow:
        e164 = parse_phone(phone)
        settings, telephony = self.ctx.settings, self.ctx.providers.telephony
        async with self.ctx.sessions() as session:
            if idempotency_key:
                existing = await repo.get_call_by_idempotency_key(
                    session=session, key=idempotency_key
                )
                if existing is not None:
                    return self._same_request(existing, e164)
            if await repo.is_blocked(session=session, phone=e164):
                raise CallRefused(f"{mask_phone(e164)} is on the do-not-call list")
        if telephony.name != "simulated":
            check_calling_hours(e164, settings.hours, utcnow())

        call_id = str(uuid.uuid4())
        try:
            async with self.ctx.sessions() as session, session.begin():
                call = await repo.create_call(
                    session=session,
                    call_id=call_id,
                    phone=e164,
                    lead=dict(lead),
                    telephony=telephony.name,
                    is_test=telephony.name == "simulated",
                    idempotency_key=idempotency_key,
                    state=State.INIT.value,
                    status="queued",
                )
        except IntegrityError:
            if not idempotency_key:
                raise
            async with self.ctx.sessions() as session:  # the same key raced in twice
                existing = await repo.get_call_by_idempotency_key(
                    session=session, key=idempotency_key
                )
            if existing is None:
                raise
            return self._same_request(existing, e164)

        log = self.ctx.log.bind(call_id=call_id)
        outbound = OutboundCall(
            to=e164,
            from_=settings.twilio_phone_number or "+15005550006",
            url=self.ctx.voice_url(call_id, 0),
            status_callback=self.ctx.status_url(call_id),
            fallback_url=self.ctx.fallback_url(call_id),
        )
        try:
            sid = await telephony.place_call(outbound)
        except TelephonyError as exc:
            log.error("call_failed_to_place", error=str(exc), phone=e164)
            async with self.ctx.sessions() as session, session.begin():
                row = await repo.get_call(session=session, call_id=call_id, lock=True)
                assert row is not None
                row.status, row.end_reason, row.error = "failed", "telephony_error", str(exc)
                row.ended_at = utcnow()
            raise
        async with self.ctx.sessions() as session, session.begin():
            row = await repo.get_call(session=session, call_id=call_id, lock=True)
            assert row is not None
            if row.twilio_sid is None:
                row.twilio_sid = sid
            call = row
        log.info("call_placed", phone=e164, call_sid=sid, telephony=telephony.name)
        return call

    @staticmethod
    def _same_request(existing: CallRow, e164: str) -> CallRow:
        if existing.phone != e164:
            raise CallRefused("this Idempotency-Key was already used for a different number")
        return existing

    async def answer_turn(
        self,
        *,
        form: Mapping[str, str],
        call_id: str | None,
        turn: int | None,
        wait: int,
        started: float,
    ) -> str:
        return await self.turns.answer(
            form=form, call_id=call_id, turn=turn, wait=wait, started=started
        )

    async def line_audio(self, audio_id: str) -> AudioStream | None:
        """The audio of one agent line; re-synthesised when another instance spoke it."""
        stream = self.audio.get(audio_id)
        if stream is not None:
            return stream
        speech = self.ctx.providers.speech
        if speech is None:
            return None
        async with self.ctx.sessions() as session:
            message = await repo.get_message_by_audio_id(session=session, audio_id=audio_id)
        if message is None:
            return None
        stream = self.audio.open(audio_id)
        chunks = [chunk async for chunk in speech.synthesize(message.text)]
        for chunk in chunks:
            await stream.append(chunk)
        await stream.finish()
        return stream

    async def record_dial(self, *, form: Mapping[str, str], call_id: str | None) -> str:
        return await callbacks.record_dial(self.ctx, form=form, call_id=call_id)

    async def answer_fallback(self, *, form: Mapping[str, str], call_id: str | None) -> str:
        return await callbacks.answer_fallback(self.ctx, form=form, call_id=call_id)

    async def record_status(self, *, form: Mapping[str, str], call_id: str | None) -> None:
        sid = form.get("CallSid", "")
        twilio_status = form.get("CallStatus", "")
        status = TWILIO_STATUS.get(twilio_status)
        log = self.ctx.log.bind(call_id=call_id, call_sid=sid, call_status=twilio_status)
        if status is None:
            log.warning("status_unknown")
            return
        sequence = int(form["SequenceNumber"]) if form.get("SequenceNumber", "").isdigit() else None
        async with self.ctx.sessions() as session, session.begin():
            row = await repo.find_webhook_call(session=session, call_id=call_id, sid=sid, lock=True)
            if row is None:
                log.warning("status_for_unknown_call")
                return
            if sequence is not None:
                if sequence <= row.status_sequence:
                    log.info("status_out_of_order", sequence=sequence)
                    return
                row.status_sequence = sequence
            if row.status in FINISHED or _RANK.get(status, 3) < _RANK.get(row.status, 3):
                # A finished or transferred call never goes back (e.g. completed -> ringing).
                if status in FINISHED and row.duration_seconds is None:
                    row.duration_seconds = _duration(form)
                return
            row.status = status
            now = utcnow()
            if status == "in_progress":
                row.answered_at = row.answered_at or now
            if status in FINISHED:
                row.ended_at = row.ended_at or now
                row.duration_seconds = _duration(form)
                if status == "failed" and row.end_reason is None:
                    row.end_reason = EndReason.TELEPHONY_ERROR.value
                elif status == "completed" and row.state != State.END.value:
                    row.end_reason = row.end_reason or EndReason.CALLER_HUNG_UP.value
            log.info("call_status", status=status)

    async def hang_up(self, call_id: str) -> CallRow:
        """An operator ends a live call: stored as ended first, so that the call's next webhook
        hangs up even if the carrier's own hang-up fails; then the carrier is told."""
        async with self.ctx.sessions() as session, session.begin():
            row = await repo.get_call(session=session, call_id=call_id, lock=True)
            if row is None:
                raise CallNotFound(f"no call with id {call_id}")
            if row.status in FINISHED:
                raise CallRefused(f"the call has already ended ({row.status})")
            row.status = "completed" if row.status == "in_progress" else "canceled"
            row.end_reason = EndReason.OPERATOR_HANGUP.value
            row.ended_at = utcnow()
            sid = row.twilio_sid
        log = self.ctx.log.bind(call_id=call_id, call_sid=sid)
        log.info("call_hung_up_by_operator")
        if sid is not None:
            await self.ctx.providers.telephony.hang_up(sid)
        return await self.get_call(call_id)

    async def get_call(self, call_id: str) -> CallRow:
        async with self.ctx.sessions() as session:
            call = await repo.get_call_detail(session=session, call_id=call_id)
        if call is None:
            raise CallNotFound(f"no call with id {call_id}")
        return call

    async def list_calls(self, *, limit: int, offset: int) -> tuple[Sequence[CallRow], int]:
        async with self.ctx.sessions() as session:
            return await repo.list_calls(session=session, limit=limit, offset=offset)


def _duration(form: Mapping[str, str]) -> int | None:
    value = form.get("CallDuration", "")
    return int(value) if value.isdigit() else None
