"""One webhook turn: load the call, classify, step the funnel, write the line, persist, TwiML.

A turn is stored (its TwiML included) before the TwiML is returned; the unique (call_id, turn)
key makes a retried webhook replay the stored answer instead of storing the turn twice.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from voiceagent.calls import twiml
from voiceagent.calls.context import Context
from voiceagent.db import repo
from voiceagent.db.tables import CallRow, MessageRow, TransitionRow, TurnRow, utcnow
from voiceagent.errors import ProviderError
from voiceagent.funnel import (
    Answered,
    Decision,
    EndReason,
    Event,
    Heard,
    Limits,
    Line,
    Progress,
    Silence,
    State,
    Then,
    step,
)
from voiceagent.providers.base import LineRequest, Utterance

FINISHED = frozenset({"completed", "transferred", "failed", "busy", "no_answer", "canceled"})
MAX_SPEECH_CHARS = 2000  # a longer SpeechResult is cut: no one says that much in one turn


class TurnRunner:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        script, settings = ctx.script, ctx.settings
        self.limits = Limits(
            questions=len(script.qualifying_questions),
            silence_timeout=settings.silence_timeout_seconds,
            handoff_available=settings.handoff_number is not None,
        )
        self.hints = script.hints()

    async def answer(
        self, *, form: Mapping[str, str], call_id: str | None, turn: int | None, started: float
    ) -> str:
        sid = form.get("CallSid", "")
        log = self.ctx.log.bind(call_id=call_id, call_sid=sid, turn=turn)
        async with self.ctx.sessions() as session:
            call = await self._find(session, call_id=call_id, sid=sid)
            if call is None:
                log.warning("unknown_call", event_detail="webhook for a call we did not place")
                return twiml.hang_up()
            log = log.bind(call_id=call.id)
            number = (
                turn
                if turn is not None
                else await repo.count_turns(session=session, call_id=call.id)
            )
            stored = await repo.get_turn(session=session, call_id=call.id, number=number)
            if stored is not None:
                log.info("webhook_replayed", turn=number)
                return stored.twiml
            if call.state == State.END or call.status in FINISHED:
                log.warning("webhook_after_end", turn=number)
                return twiml.hang_up()
            history = await repo.list_messages(session=session, call_id=call.id)

        speech = form.get("SpeechResult", "").strip()[:MAX_SPEECH_CHARS]
        event, intent_reason, classify_ms = self._event(number, speech)
        progress = Progress.restore(call.progress or {})
        decision = step(progress, event, self.limits)
        language_started = time.perf_counter()
        text, decision = await self._write(call, number, decision, speech, history, log)
        language_ms = (time.perf_counter() - language_started) * 1000
        answer = self._render(call.id, number, decision, text)
        total_ms = (time.perf_counter() - started) * 1000
        stages = {"classify": classify_ms, "language": language_ms, "webhook": total_ms}

        try:
            await self._persist(call, number, event, speech, decision, text, answer, stages, sid)
        except IntegrityError:
            # The same turn raced in twice (a Twilio retry): the first one stored wins.
            async with self.ctx.sessions() as session:
                stored = await repo.get_turn(session=session, call_id=call.id, number=number)
            if stored is None:
                raise
            log.info("webhook_replayed", turn=number, raced=True)
            return stored.twiml
        self._log(log, number, event, progress, decision, stages, intent_reason)
        return answer

    async def _find(
        self, session: AsyncSession, *, call_id: str | None, sid: str
    ) -> CallRow | None:
        if call_id:
            call = await repo.get_call(session=session, call_id=call_id)
            # A webhook must come from the call we placed; before Calls.create returned the
            # sid may not be stored yet, so an unset sid is accepted and filled in on persist.
            if call is None or (call.twilio_sid and sid and call.twilio_sid != sid):
                return None
            return call
        return await repo.get_call_by_sid(session=session, sid=sid) if sid else None

    def _event(self, number: int, speech: str) -> tuple[Event, str, float]:
        if number == 0:
            return Answered(), "answered", 0.0
        if not speech:
            return Silence(float(self.ctx.settings.gather_timeout_seconds)), "silence", 0.0
        started = time.perf_counter()
        result = self.ctx.providers.classifier.classify(speech)
        return Heard(result.intent), result.reason, (time.perf_counter() - started) * 1000

    async def _write(
        self,
        call: CallRow,
        number: int,
        decision: Decision,
        speech: str,
        history: Sequence[MessageRow],
        log: Any,
    ) -> tuple[str, Decision]:
        past = tuple(
            Utterance(role="agent" if m.role == "agent" else "caller", text=m.text) for m in history
        )
        request = LineRequest(
            call_id=call.id,
            turn=number,
            state=decision.state if decision.state is not State.END else call_state(call),
            lines=decision.lines,
            question_index=decision.progress.question,
            reask=decision.reask,
            end_reason=decision.end_reason,
            outcome=decision.outcome,
            caller_text=speech,
            history=past,
            lead={str(k): str(v) for k, v in (call.lead or {}).items()},
        )
        try:
            parts = [part async for part in self.ctx.providers.language.stream_line(request)]
            return " ".join(parts), decision
        except ProviderError as exc:
            log.error("llm_error", error=str(exc))
            failed = Decision(
                progress=Progress(**{**asdict(decision.progress), "state": State.END}),
                lines=(Line.GOODBYE,),
                then=Then.HANG_UP,
                end_reason=EndReason.LLM_ERROR,
            )
            fallback = LineRequest(
                call_id=call.id,
                turn=number,
                state=request.state,
                lines=(Line.GOODBYE,),
                end_reason=EndReason.LLM_ERROR,
                lead=request.lead,
            )
            return self.ctx.fallback.compose(fallback), failed

    def _render(self, call_id: str, number: int, decision: Decision, text: str) -> str:
        if decision.then is Then.LISTEN:
            return twiml.listen(
                text,
                action=self.ctx.voice_url(call_id, number + 1),
                timeout=self.ctx.settings.gather_timeout_seconds,
                hints=self.hints,
            )
        if decision.then is Then.TRANSFER and self.ctx.settings.handoff_number:
            return twiml.transfer(text, number=self.ctx.settings.handoff_number)
        return twiml.hang_up(text)

    async def _persist(
        self,
        call: CallRow,
        number: int,
        event: Event,
        speech: str,
        decision: Decision,
        text: str,
        answer: str,
        stages: dict[str, float],
        sid: str,
    ) -> None:
        intent = event.intent.value if isinstance(event, Heard) else None
        now = utcnow()
        async with self.ctx.sessions() as session, session.begin():
            row = await repo.get_call(session=session, call_id=call.id, lock=True)
            assert row is not None  # calls are never deleted while they run
            session.add(TurnRow(call_id=row.id, number=number, twiml=answer, created_at=now))
            seq = await repo.next_message_seq(session=session, call_id=row.id)
            if speech:
                session.add(
                    MessageRow(
                        call_id=row.id,
                        seq=seq,
                        role="caller",
                        text=speech,
                        state=row.state,
                        intent=intent,
                        latency_ms=round(stages["classify"], 3),
                        created_at=now,
                    )
                )
                seq += 1
            session.add(
                MessageRow(
                    call_id=row.id,
                    seq=seq,
                    role="agent",
                    text=text,
                    state=decision.state.value,
                    latency_ms=round(stages["webhook"], 3),
                    stages={k: round(v, 3) for k, v in stages.items()},
                    created_at=now,
                )
            )
            if decision.state.value != row.state:
                session.add(
                    TransitionRow(
                        call_id=row.id,
                        seq=await repo.next_transition_seq(session=session, call_id=row.id),
                        from_state=row.state,
                        to_state=decision.state.value,
                        intent=intent,
                        at=now,
                    )
                )
            self._update_call(row, decision, sid, now)
            if decision.block_number:
                await repo.block_number(
                    session=session, phone=row.phone, source="caller_request", call_id=row.id
                )

    def _update_call(self, row: CallRow, decision: Decision, sid: str, now: datetime) -> None:
        row.state = decision.state.value
        row.progress = asdict(decision.progress)
        if sid and not row.twilio_sid:
            row.twilio_sid = sid
        if row.status in ("queued", "ringing"):
            row.status = "in_progress"
            row.answered_at = row.answered_at or now
        if decision.state is State.END:
            row.end_reason = decision.end_reason.value if decision.end_reason else None
            row.outcome = decision.outcome.value if decision.outcome else None
            if decision.then is Then.TRANSFER:
                row.status = "transferred"
            if decision.end_reason is EndReason.LLM_ERROR:
                row.status = "failed"

    def _log(
        self,
        log: Any,
        number: int,
        event: Event,
        before: Progress,
        decision: Decision,
        stages: dict[str, float],
        reason: str,
    ) -> None:
        intent = event.intent.value if isinstance(event, Heard) else None
        metrics = self.ctx.metrics
        for stage, ms in stages.items():
            metrics.stage_ms.labels(stage=stage).observe(ms)
        metrics.turns.labels(state=decision.state.value).inc()
        log.info(
            "turn",
            turn=number,
            state=decision.state.value,
            intent=intent,
            intent_rule=reason,
            latency_ms=round(stages["webhook"], 2),
            stages={k: round(v, 2) for k, v in stages.items()},
        )
        if decision.state is not before.state:
            metrics.transitions.labels(
                from_state=before.state.value, to_state=decision.state.value
            ).inc()
            log.info(
                "transition",
                **{"from": before.state.value, "to": decision.state.value},
                intent=intent,
                latency_ms=round(stages["webhook"], 2),
            )
        if decision.state is State.END:
            reason_value = decision.end_reason.value if decision.end_reason else None
            metrics.calls_ended.labels(end_reason=reason_value or "none").inc()
            log.info("call_ended", end_reason=reason_value, outcome=decision.outcome)


def call_state(call: CallRow) -> State:
    return State(call.state)
