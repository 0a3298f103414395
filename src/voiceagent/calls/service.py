"""The call service: start a call, record Twilio's status callbacks, read calls back."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError

from voiceagent.calls import callbacks
from voiceagent.calls.audio import AudioStore, AudioStream
from voiceagent.calls.compliance import check_calling_hours
from voiceagent.calls.context import Context
from voiceagent.calls.status import FINISHED, RANK
from voiceagent.calls.turn.decide import Decider
from voiceagent.calls.turn.gather import GatherTurns
from voiceagent.calls.turn.job import Ask
from voiceagent.calls.turn.relay import RelayTurns, Send
from voiceagent.db import calls_repo, dnc_repo, turns_repo
from voiceagent.db.tables import CallRow, utcnow
from voiceagent.errors import CallNotFound, CallRefused, TelephonyError
from voiceagent.funnel import Cause, EndReason, State
from voiceagent.phone import mask_phone, parse_phone
from voiceagent.providers.base import OutboundCall, SessionEnd, StatusReport, StreamEvent


class CallService:
    def __init__(self, ctx: Context, audio: AudioStore | None = None) -> None:
        self.ctx = ctx
        self.audio = audio or AudioStore()
        self.decider = Decider(ctx)
        self.gather = GatherTurns(ctx, self.audio, self.decider)
        self.relay = RelayTurns(ctx, self.decider)

    async def start_call(
        self, *, phone: str, lead: Mapping[str, Any], idempotency_key: str | None
    ) -> CallRow:
        e164 = parse_phone(phone)
        settings, telephony = self.ctx.settings, self.ctx.providers.telephony
        async with self.ctx.sessions() as session:
            if idempotency_key:
                existing = await calls_repo.get_call_by_idempotency_key(
                    session=session, key=idempotency_key
                )
                if existing is not None:
                    return self._same_request(existing, e164)
            if await dnc_repo.is_blocked(session=session, phone=e164):
                raise CallRefused(f"{mask_phone(e164)} is on the do-not-call list")
        if telephony.name != "simulated":
            check_calling_hours(e164, settings.hours, utcnow())

        call_id = str(uuid.uuid4())
        try:
            async with self.ctx.sessions() as session, session.begin():
                call = await calls_repo.create_call(
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
                existing = await calls_repo.get_call_by_idempotency_key(
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
                row = await calls_repo.get_call(session=session, call_id=call_id, lock=True)
                assert row is not None
                row.status, row.end_reason, row.error = "failed", "telephony_error", str(exc)
                row.ended_at = utcnow()
            raise
        async with self.ctx.sessions() as session, session.begin():
            row = await calls_repo.get_call(session=session, call_id=call_id, lock=True)
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

    async def answer_turn(self, ask: Ask, *, wait: int = 0) -> str:
        """A voice webhook: on the relay transport the first one opens the session; every
        other is a `<Gather>` turn, answered inside the webhook budget."""
        if ask.number == 0 and self.ctx.settings.voice_transport == "relay":
            return await self.relay.opening(ask)
        return await self.gather.answer(ask, wait=wait)

    async def converse(self, events: AsyncIterator[StreamEvent], send: Send) -> None:
        """A ConversationRelay session, from its setup until the socket closes."""
        await self.relay.converse(events, send)

    async def relay_ended(self, *, call_id: str | None, end: SessionEnd) -> str:
        return await self.relay.ended(call_id=call_id, end=end)

    async def aclose(self) -> None:
        await self.relay.aclose()
        await self.gather.aclose()

    async def line_audio(self, audio_id: str) -> AudioStream | None:
        """The audio of one agent line; re-synthesised when another instance spoke it."""
        stream = self.audio.get(audio_id)
        if stream is not None:
            return stream
        speech = self.ctx.providers.speech
        if speech is None:
            return None
        async with self.ctx.sessions() as session:
            message = await turns_repo.get_message_by_audio_id(session=session, audio_id=audio_id)
        if message is None:
            return None
        stream = self.audio.open(audio_id)
        chunks = [chunk async for chunk in speech.synthesize(message.text)]
        for chunk in chunks:
            await stream.append(chunk)
        await stream.finish()
        return stream

    async def record_dial(
        self, *, call_id: str | None, sid: str, result: tuple[str, int | None] | None
    ) -> str:
        return await callbacks.record_dial(self.ctx, call_id=call_id, sid=sid, result=result)

    async def answer_fallback(self, *, call_id: str | None, sid: str, error: str) -> str:
        return await callbacks.answer_fallback(
            self.ctx, self.decider, call_id=call_id, sid=sid, error=error
        )

    async def record_status(self, *, report: StatusReport | None, call_id: str | None) -> None:
        log = self.ctx.log.bind(call_id=call_id, call_sid=report.sid if report else None)
        if report is None:
            log.warning("status_unknown")
            return
        sid, status, sequence = report.sid, report.status, report.sequence
        hung_up = False
        async with self.ctx.sessions() as session, session.begin():
            row = await calls_repo.find_webhook_call(
                session=session, call_id=call_id, sid=sid, lock=True
            )
            if row is None:
                log.warning("status_for_unknown_call")
                return
            if sequence is not None:
                if sequence <= row.status_sequence:
                    log.info("status_out_of_order", sequence=sequence)
                    return
                row.status_sequence = sequence
            if row.status in FINISHED or RANK.get(status, 3) < RANK.get(row.status, 3):
                # A finished or transferred call never goes back (e.g. completed -> ringing).
                if status in FINISHED and row.duration_seconds is None:
                    row.duration_seconds = report.duration_seconds
                return
            row.status = status
            now = utcnow()
            if status == "in_progress":
                row.answered_at = row.answered_at or now
            if status in FINISHED:
                row.ended_at = row.ended_at or now
                row.duration_seconds = report.duration_seconds
                if status == "failed" and row.end_reason is None:
                    row.end_reason = EndReason.TELEPHONY_ERROR.value
                # Hung up mid-funnel: the funnel's own stop, below, once this is stored.
                hung_up = status == "completed" and row.state != State.END.value
            call_id = row.id
            log.info("call_status", status=status)
        if hung_up:
            await self.decider.stop(Cause.CALLER_HUNG_UP, call_id=call_id, log=log)

    async def hang_up(self, call_id: str) -> CallRow:
        """An operator ends a live call: stored as ended first, so that the call's next webhook
        hangs up even if the carrier's own hang-up fails; then the carrier is told."""
        async with self.ctx.sessions() as session, session.begin():
            row = await calls_repo.get_call(session=session, call_id=call_id, lock=True)
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
        await self.decider.stop(Cause.OPERATOR_HUNG_UP, call_id=call_id, log=log)
        if sid is not None:
            await self.ctx.providers.telephony.hang_up(sid)
        return await self.get_call(call_id)

    async def get_call(self, call_id: str) -> CallRow:
        async with self.ctx.sessions() as session:
            call = await calls_repo.get_call_detail(session=session, call_id=call_id)
        if call is None:
            raise CallNotFound(f"no call with id {call_id}")
        return call

    async def list_calls(self, *, limit: int, offset: int) -> tuple[Sequence[CallRow], int]:
        async with self.ctx.sessions() as session:
            return await calls_repo.list_calls(session=session, limit=limit, offset=offset)
