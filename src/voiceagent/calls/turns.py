"""One webhook turn: load the call, classify, step the funnel, store the decision, then answer.

The decision is stored (the turn row as `pending`) while the line is written, before anything
else of the turn, and the turn's TwiML is stored before it is returned: a retried webhook, or
Twilio's `<Redirect>` after a bridging line, finds the turn by its unique (call_id, number) and
gets the stored answer, or waits for it. Every answer leaves inside WEBHOOK_BUDGET_SECONDS:
when the line is late, a short bridging line and a `<Redirect>` keep the caller company while
it is finished.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy.exc import IntegrityError

from voiceagent.calls import records, twiml
from voiceagent.calls.audio import AudioStore, AudioStream, new_audio_id
from voiceagent.calls.context import Context
from voiceagent.calls.producer import LineProducer, TurnAlreadyAnswered, TurnJob
from voiceagent.calls.understand import Understood, spoken_facts, understand
from voiceagent.db import repo
from voiceagent.db.tables import CallRow, MessageRow, TurnRow
from voiceagent.errors import LanguageError
from voiceagent.funnel import (
    Act,
    Answered,
    Decision,
    EndReason,
    Event,
    Heard,
    Intent,
    Limits,
    Line,
    Outcome,
    Progress,
    Silence,
    State,
    Then,
    step,
)
from voiceagent.funnel.states import SAFETY_INTENTS
from voiceagent.intent.precedence import highest
from voiceagent.intent.types import Classification
from voiceagent.providers.audio import ulaw_of
from voiceagent.providers.base import LineRequest, Utterance

FINISHED = frozenset({"completed", "transferred", "failed", "busy", "no_answer", "canceled"})
MAX_SPEECH_CHARS = 2000  # a longer SpeechResult is cut: no one says that much in one turn
MAX_BRIDGES = 3  # bridging lines in a row before the turn is answered with the script's line
BRIDGES = ("One moment.", "Just a second.", "Bear with me one moment.")
SAFETY_MARGIN = 0.25  # seconds kept back from the budget for writing and sending the answer
POLL_SECONDS = 0.05
DOUBT = 0.5  # under this probability the local model's intent is a guess (see Heard.doubtful)


class TurnRunner:
    def __init__(self, ctx: Context, audio: AudioStore) -> None:
        self.ctx = ctx
        self.audio = audio
        self.limits = Limits(
            questions=len(ctx.script.qualifying_questions),
            silence_timeout=ctx.settings.silence_timeout_seconds,
            handoff_available=ctx.settings.handoff_number is not None,
        )
        self.producer = LineProducer(ctx, audio)
        self._inflight: dict[tuple[str, int], TurnJob] = {}  # lines being written, by turn
        self._working: dict[tuple[str, int], asyncio.Task[str]] = {}  # webhooks being answered
        self._tasks: set[asyncio.Task[None]] = set()

    async def aclose(self) -> None:
        """Let lines being written finish (they are short), so no answered turn is lost."""
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)

    async def answer(
        self,
        *,
        form: Mapping[str, str],
        call_id: str | None,
        turn: int | None,
        wait: int,
        started: float,
    ) -> str:
        """Answer inside the budget, however slow the database or the providers are.

        The work runs as its own task: when the budget is up first, a bridging line goes back
        with a `<Redirect>` to this same turn, and the work goes on (the decision is stored,
        the line written). The redirect, or a retry of the same webhook, joins that work.
        """
        log = self.ctx.log.bind(call_id=call_id, call_sid=form.get("CallSid", ""), turn=turn)
        key = (call_id, turn) if call_id and turn is not None else None
        work = self._working.get(key) if key is not None else None
        if work is None:
            work = asyncio.create_task(
                self._answer(form=form, call_id=call_id, turn=turn, started=started, log=log)
            )
            work.add_done_callback(self._forget(key))
            if key is not None:
                self._working[key] = work
        remaining = self.ctx.settings.webhook_budget_seconds - SAFETY_MARGIN - _since(started)
        try:
            return await asyncio.wait_for(asyncio.shield(work), timeout=max(0.0, remaining))
        except TimeoutError:
            pass
        if key is None:
            return await work  # no turn number to come back to: nothing to bridge with
        job = self._inflight.get(key)
        if wait < MAX_BRIDGES:
            return self._bridge(key[0], key[1], wait, started, log)
        if job is not None:
            return await self._give_up(job.call_id, job.number, job.request, job.decision.then, log)
        return await work

    def _forget(self, key: tuple[str, int] | None) -> Any:
        def done(work: asyncio.Task[str]) -> None:
            if key is not None and self._working.get(key) is work:
                del self._working[key]
            if not work.cancelled() and work.exception() is not None:
                self.ctx.log.error("turn_failed", key=str(key), error=repr(work.exception()))

        return done

    async def _answer(
        self,
        *,
        form: Mapping[str, str],
        call_id: str | None,
        turn: int | None,
        started: float,
        log: Any,
    ) -> str:
        sid = form.get("CallSid", "")
        async with self.ctx.sessions() as session:
            call = await repo.find_webhook_call(session=session, call_id=call_id, sid=sid)
            if call is None:
                log.warning("unknown_call", detail="webhook for a call we did not place")
                return twiml.hang_up()
            log = log.bind(call_id=call.id)
            number = (
                turn
                if turn is not None
                else await repo.count_turns(session=session, call_id=call.id)
            )
            stored = await repo.get_turn(session=session, call_id=call.id, number=number)
            history = await repo.list_messages(session=session, call_id=call.id)
        if stored is not None:
            return await self._replay(call.id, stored, log)
        if call.state == State.END or call.status in FINISHED:
            log.warning("webhook_after_end", turn=number)
            return twiml.hang_up()

        speech = form.get("SpeechResult", "").strip()[:MAX_SPEECH_CHARS]
        progress = Progress.restore(call.progress or {})
        event, read, rule, classify_ms = await self._hear(call, number, speech, progress, history)
        decision = step(progress, event, self.limits)
        intent = event.intent.value if isinstance(event, Heard) else None
        act = event.act.value if isinstance(event, Heard) else None
        job = TurnJob(
            call_id=call.id,
            number=number,
            decision=decision,
            request=self._request(call, number, decision, speech, history, read),
            started=started,
            audio_id=new_audio_id(),
            intent=intent,
        )
        job.stages["classify"] = classify_ms
        # The decision is written while the line is being written: the model's first sentence
        # takes far longer than the write, so the database leaves the critical path. The line
        # is only stored (and answered) once the decision is (see LineProducer._answer).
        job.decided = asyncio.ensure_future(
            records.record_decision(
                self.ctx.sessions,
                call_id=call.id,
                number=number,
                speech=speech,
                intent=intent,
                act=act,
                classify_ms=classify_ms,
                decision=decision,
                sid=sid,
                learned=records.learned_of(read, decision),
            )
        )
        self._start(job)
        try:
            await asyncio.shield(job.decided)
        except IntegrityError:
            # The same turn raced in on another instance: the one stored first answers.
            async with self.ctx.sessions() as session:
                raced = await repo.get_turn(session=session, call_id=call.id, number=number)
            if raced is None:
                raise
            return await self._replay(call.id, raced, log)
        self._log_decision(log, number, intent, rule, started, progress.state, decision)
        return await self._final(job)

    def _start(self, job: TurnJob) -> None:
        key = (job.call_id, job.number)
        self._inflight[key] = job
        task = asyncio.create_task(self.producer.run(job), name=f"turn-{job.call_id}-{job.number}")
        self._tasks.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self._tasks.discard(finished)
            self._inflight.pop(key, None)
            if not finished.cancelled() and finished.exception() is not None:
                error = finished.exception()
                # Answered elsewhere, or never decided here (a cross-instance race): not a failure.
                if not isinstance(error, TurnAlreadyAnswered | IntegrityError):
                    self.ctx.log.error(
                        "turn_failed", call_id=job.call_id, turn=job.number, error=repr(error)
                    )

        task.add_done_callback(done)

    async def _final(self, job: TurnJob) -> str:
        try:
            return await asyncio.shield(job.answer)
        except TurnAlreadyAnswered:
            return await self._stored_answer(job.call_id, job.number) or twiml.hang_up()

    async def _replay(self, call_id: str, stored: TurnRow, log: Any) -> str:
        if stored.status == "ready":
            log.info("webhook_replayed", turn=stored.number)
            return stored.twiml
        job = self._inflight.get((call_id, stored.number))
        if job is not None:
            return await self._final(job)
        # Pending on another instance, or on one that died mid-turn: watch the database for
        # as long as a line can take, then answer with the script's line ourselves.
        settings = self.ctx.settings
        patience = settings.llm_timeout_seconds + settings.tts_first_byte_timeout_seconds + 1.0
        deadline = time.perf_counter() + patience
        while time.perf_counter() < deadline:
            answer = await self._stored_answer(call_id, stored.number)
            if answer is not None:
                return answer
            await asyncio.sleep(POLL_SECONDS)
        request = self._request_from_plan(call_id, stored)
        then = Then((stored.plan or {}).get("then", Then.LISTEN.value))
        return await self._give_up(call_id, stored.number, request, then, log)

    async def _stored_answer(self, call_id: str, number: int) -> str | None:
        async with self.ctx.sessions() as session:
            row = await repo.get_turn(session=session, call_id=call_id, number=number)
        return row.twiml if row is not None and row.status == "ready" else None

    def _bridge(self, call_id: str, number: int, wait: int, started: float, log: Any) -> str:
        text = BRIDGES[(number + wait) % len(BRIDGES)]
        spoken = twiml.Spoken(text, self._cached_audio_url(text))
        redirect = f"{self.ctx.voice_url(call_id, number)}&wait={wait + 1}"
        self.ctx.metrics.budget_exceeded.inc()
        log.warning(
            "webhook_budget_exceeded",
            event_detail="bridging line while the turn's line is finished",
            turn=number,
            wait=wait,
            latency_ms=round(_since(started) * 1000, 2),
            budget_ms=self.ctx.settings.webhook_budget_seconds * 1000,
        )
        return twiml.bridge(spoken, redirect=redirect)

    def _cached_audio_url(self, text: str) -> str | None:
        cached = self.ctx.audio_cache.get(text) if self.ctx.audio_cache else None
        if cached is None:
            return None
        audio_id = new_audio_id()
        self.audio.open(audio_id, AudioStream([ulaw_of(cached)], done=True))
        return self.ctx.audio_url(audio_id)

    async def _give_up(
        self, call_id: str, number: int, request: LineRequest, then: Then, log: Any
    ) -> str:
        """The line is still not there after every bridge: answer with the script's line.

        What follows the line is the funnel's decision, as for any answer (a transfer dials).
        """
        text = self.ctx.fallback.compose(request)
        answer = self.producer.render(call_id, number, twiml.Spoken(text), then)
        stored = await records.record_answer(
            self.ctx.sessions,
            call_id=call_id,
            number=number,
            twiml=answer,
            text=text,
            state=request.state.value,
            audio_id=None,
            latency_ms=0.0,
            stages={"gave_up": 1.0},
        )
        if not stored:
            return await self._stored_answer(call_id, number) or answer
        log.warning("turn_answered_from_script", turn=number)
        return answer

    async def _hear(
        self,
        call: CallRow,
        number: int,
        speech: str,
        progress: Progress,
        history: Sequence[MessageRow],
    ) -> tuple[Event, Understood | None, str, float]:
        """The turn's event for the funnel, and what the reply says (None without one)."""
        if number == 0:
            return Answered(), None, "answered", 0.0
        if not speech:
            silence = Silence(float(self.ctx.settings.gather_timeout_seconds))
            return silence, None, "silence", 0.0
        started = time.perf_counter()
        heard = await self._classify(call, speech, history)
        read = understand(
            self.ctx.script,
            speech=speech,
            intent=heard.intent,
            act=heard.act,
            progress=progress,
            answers=call.answers or {},
            lead=call.lead or {},
            phone=call.phone,
            doubtful=heard.scores.get(heard.intent.value, 1.0) < DOUBT,
        )
        return read.heard, read, heard.reason, _since(started) * 1000

    async def _classify(
        self, call: CallRow, speech: str, history: Sequence[MessageRow]
    ) -> Classification:
        local = self.ctx.providers.classifier.classify(speech)
        model = self.ctx.providers.intent_model
        if model is None or local.intent is Intent.DO_NOT_CALL:
            return local
        # The model may refine the funnel intents and add a safety label, never remove one;
        # late or failing, the local label stands. The act is always the local model's.
        agent_line = next((m.text for m in reversed(history) if m.role == "agent"), "")
        try:
            async with asyncio.timeout(self.ctx.settings.classifier_timeout_seconds):
                intent = Intent(
                    await model.classify(speech, state=State(call.state), agent_line=agent_line)
                )
        except (TimeoutError, LanguageError, ValueError) as exc:
            self.ctx.log.info("intent_model_skipped", call_id=call.id, error=repr(exc))
            return local
        if local.intent in SAFETY_INTENTS or intent in SAFETY_INTENTS:
            safest = highest(i for i in (local.intent, intent) if i in SAFETY_INTENTS)
            if safest is None or safest is local.intent:
                return local
            return replace(local, intent=safest, reason="llm", scores={})
        return replace(local, intent=intent, reason="llm", scores={})

    def _request(
        self,
        call: CallRow,
        number: int,
        decision: Decision,
        speech: str,
        history: Sequence[MessageRow],
        read: Understood | None,
    ) -> LineRequest:
        facts = read.facts if read else spoken_facts(self.ctx.script, call.answers or {})
        return LineRequest(
            call_id=call.id,
            turn=number,
            state=decision.state if decision.state is not State.END else State(call.state),
            lines=decision.lines,
            question_index=decision.progress.question,
            reask=decision.reask,
            end_reason=decision.end_reason,
            outcome=decision.outcome,
            caller_text=speech,
            history=tuple(
                Utterance(role="agent" if m.role == "agent" else "caller", text=m.text)
                for m in history
            ),
            lead={str(k): str(v) for k, v in (call.lead or {}).items()},
            act=decision.act,
            facts=facts,
            new_facts=read.new_fields if read else (),
            time_heard=read.callback.spoken if read and read.callback else "",
            email=read.email if read else "",
            language=read.language if read else "",
        )

    def _request_from_plan(self, call_id: str, stored: TurnRow) -> LineRequest:
        plan = stored.plan or {}
        return LineRequest(
            call_id=call_id,
            turn=stored.number,
            state=State(plan.get("state", State.INTRO.value)),
            lines=tuple(Line(line) for line in plan.get("lines", [Line.CHECK_PRESENCE.value])),
            question_index=int(plan.get("question", 0)),
            reask=True,
            end_reason=EndReason(plan["end_reason"]) if plan.get("end_reason") else None,
            outcome=Outcome(plan["outcome"]) if plan.get("outcome") else None,
            act=Act(plan.get("act", Act.NONE.value)),
            facts=dict(plan.get("facts", {})),
            time_heard=str(plan.get("time_heard", "")),
            email=str(plan.get("email", "")),
            language=str(plan.get("language", "")),
        )

    def _log_decision(
        self,
        log: Any,
        number: int,
        intent: str | None,
        rule: str,
        started: float,
        before: State,
        decision: Any,
    ) -> None:
        metrics = self.ctx.metrics
        latency_ms = round(_since(started) * 1000, 3)
        log.info(
            "decision",
            turn=number,
            state=decision.state.value,
            intent=intent,
            intent_rule=rule,
            latency_ms=latency_ms,
        )
        if decision.state is not before:
            metrics.transitions.labels(from_state=before.value, to_state=decision.state.value).inc()
            log.info(
                "transition",
                **{"from": before.value, "to": decision.state.value},
                intent=intent,
                turn=number,
                latency_ms=latency_ms,
            )
        if decision.state is State.END:
            reason = decision.end_reason.value if decision.end_reason else None
            metrics.calls_ended.labels(end_reason=reason or "none").inc()
            log.info("call_ended", end_reason=reason, outcome=decision.outcome, turn=number)


def _since(started: float) -> float:
    return time.perf_counter() - started
