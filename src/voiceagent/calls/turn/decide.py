"""Read once, hear, step: the part of every turn that decides, and the write that stores it.

`read` loads everything a turn needs in one session. `decide` turns what the carrier reported
into the funnel's event (classifying and reading the facts of a reply), asks `funnel.step()`,
and builds the line's request. `record` stores the decision while the line is being written.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from voiceagent.calls import records
from voiceagent.calls.context import Context
from voiceagent.calls.status import FINISHED
from voiceagent.calls.turn.job import Ask, TurnJob, ms_since
from voiceagent.calls.understand import Understood, spoken_facts, understand
from voiceagent.db import calls_repo, turns_repo
from voiceagent.db.tables import CallRow, MessageRow, TurnRow
from voiceagent.funnel import (
    Act,
    Answered,
    Cause,
    Decision,
    EndReason,
    Event,
    Heard,
    Limits,
    Line,
    Outcome,
    Progress,
    Silence,
    State,
    Stopped,
    step,
)
from voiceagent.intent import combined
from voiceagent.providers.base import LineRequest, Pickup, Quiet, Said, Utterance

DOUBT = 0.5  # under this probability the local model's intent is a guess (see Heard.doubtful)


@dataclass(frozen=True)
class Read:
    """Everything a turn needs from the database, read in one session."""

    call: CallRow
    number: int
    stored: TurnRow | None  # the turn, when a retry or another instance got here first
    history: Sequence[MessageRow]

    @property
    def ended(self) -> bool:
        """The call is over: nothing more is decided or said on it."""
        return self.call.state == State.END or self.call.status in FINISHED


class Decider:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.limits = Limits(
            questions=len(ctx.script.qualifying_questions),
            silence_timeout=ctx.settings.silence_timeout_seconds,
            handoff_available=ctx.settings.handoff_number is not None,
        )

    async def read(self, ask: Ask) -> Read | None:
        """The call, the turn's number and what is stored of it; None for a call we never placed."""
        async with self.ctx.sessions() as session:
            call = await calls_repo.find_webhook_call(
                session=session, call_id=ask.call_id, sid=ask.sid
            )
            if call is None:
                return None
            number = (
                ask.number
                if ask.number is not None
                else await turns_repo.count_turns(session=session, call_id=call.id)
            )
            stored = await turns_repo.get_turn(session=session, call_id=call.id, number=number)
            history = await turns_repo.list_messages(session=session, call_id=call.id)
        return Read(call=call, number=number, stored=stored, history=history)

    async def admit(self, ask: Ask, log: Any) -> Read | None:
        """A carrier's turn request, read; None (logged) when there is nothing to decide: a call
        we never placed, or one that is over. A stored turn is read as it is: it is replayed."""
        read = await self.read(ask)
        if read is None:
            log.warning("unknown_call", detail="webhook for a call we did not place")
            return None
        if read.stored is None and read.ended:
            log.bind(call_id=read.call.id).warning("webhook_after_end", turn=read.number)
            return None
        return read

    async def decide(self, read: Read, ask: Ask, *, audio_id: str, log: Any) -> TurnJob:
        """Hear the turn, step the funnel, and start storing the decision."""
        call, number = read.call, read.number
        progress = Progress.restore(call.progress or {})
        event, understood, rule, classify_ms = await self._hear(read, ask, progress, log)
        decision = step(progress, event, self.limits)
        intent = event.intent.value if isinstance(event, Heard) else None
        speech = ask.input.text if isinstance(ask.input, Said) else ""
        job = TurnJob(
            call_id=call.id,
            number=number,
            decision=decision,
            request=self._request(read, decision, speech, understood),
            started=ask.started,
            audio_id=audio_id,
            intent=intent,
        )
        job.stages["classify"] = classify_ms
        # The decision is written while the line is being written: the model's first sentence
        # takes far longer than the write, so the database leaves the critical path. The line
        # is only stored (and answered) once the decision is.
        job.decided = asyncio.ensure_future(
            records.record_decision(
                self.ctx.sessions,
                call_id=call.id,
                number=number,
                speech=speech,
                intent=intent,
                act=event.act.value if isinstance(event, Heard) else None,
                classify_ms=classify_ms,
                decision=decision,
                sid=ask.sid,
                learned=records.learned_of(understood, decision),
            )
        )
        self.log_decision(log, job, rule, progress.state)
        return job

    async def _hear(
        self, read: Read, ask: Ask, progress: Progress, log: Any
    ) -> tuple[Event, Understood | None, str, float]:
        """The turn's event for the funnel, and what the reply says (None without one)."""
        said = ask.input
        if isinstance(said, Pickup):
            return Answered(), None, "answered", 0.0
        if isinstance(said, Quiet):
            return Silence(said.seconds), None, "silence", 0.0
        started = time.perf_counter()
        call = read.call
        agent_line = next((m.text for m in reversed(read.history) if m.role == "agent"), "")
        heard = await combined.classify(
            said.text,
            local=self.ctx.providers.classifier,
            model=self.ctx.providers.intent_model,
            state=State(call.state),
            agent_line=agent_line,
            timeout=self.ctx.settings.classifier_timeout_seconds,
            log=log,
        )
        understood = understand(
            self.ctx.script,
            speech=said.text,
            intent=heard.intent,
            act=heard.act,
            progress=progress,
            answers=call.answers or {},
            lead=call.lead or {},
            phone=call.phone,
            doubtful=heard.scores.get(heard.intent.value, 1.0) < DOUBT,
        )
        return understood.heard, understood, heard.reason, ms_since(started)

    def _request(
        self,
        read: Read,
        decision: Decision,
        speech: str,
        got: Understood | None,
    ) -> LineRequest:
        call = read.call
        facts = got.facts if got else spoken_facts(self.ctx.script, call.answers or {})
        return LineRequest(
            call_id=call.id,
            turn=read.number,
            state=decision.state if decision.state is not State.END else State(call.state),
            lines=decision.lines,
            question_index=decision.progress.question,
            reask=decision.reask,
            end_reason=decision.end_reason,
            outcome=decision.outcome,
            caller_text=speech,
            history=tuple(
                Utterance(role="agent" if m.role == "agent" else "caller", text=m.text)
                for m in read.history
            ),
            lead={str(k): str(v) for k, v in (call.lead or {}).items()},
            act=decision.act,
            facts=facts,
            new_facts=got.new_fields if got else (),
            time_heard=got.callback.spoken if got and got.callback else "",
            email=got.email if got else "",
            language=got.language if got else "",
        )

    async def stop(
        self, cause: Cause, *, call_id: str | None, sid: str = "", error: str = "", log: Any
    ) -> Decision | None:
        """The call stops from outside the conversation: the funnel decides how, stored at once.

        None when there is no such call, or when the funnel had ended it already.
        """
        async with self.ctx.sessions() as session, session.begin():
            row = await calls_repo.find_webhook_call(
                session=session, call_id=call_id, sid=sid, lock=True
            )
            if row is None:
                return None
            if error:
                row.error = error[:2000]
            if row.state == State.END.value:
                return None
            before = State(row.state)
            decision = step(Progress.restore(row.progress or {}), Stopped(cause), self.limits)
            await records.apply_stop(session, row, decision)
        log = log.bind(call_id=row.id)
        reason = decision.end_reason.value if decision.end_reason else "none"
        self.ctx.metrics.transitions.labels(from_state=before.value, to_state="END").inc()
        self.ctx.metrics.calls_ended.labels(end_reason=reason).inc()
        log.info("call_ended", end_reason=reason, cause=cause.value)
        return decision

    def log_decision(self, log: Any, job: TurnJob, rule: str, before: State) -> None:
        metrics, decision = self.ctx.metrics, job.decision
        latency_ms = round(ms_since(job.started), 3)
        log.info(
            "decision",
            turn=job.number,
            state=decision.state.value,
            intent=job.intent,
            intent_rule=rule,
            latency_ms=latency_ms,
        )
        if decision.state is not before:
            metrics.transitions.labels(from_state=before.value, to_state=decision.state.value).inc()
            log.info(
                "transition",
                **{"from": before.value, "to": decision.state.value},
                intent=job.intent,
                turn=job.number,
                latency_ms=latency_ms,
            )
        if decision.state is State.END:
            reason = decision.end_reason.value if decision.end_reason else None
            metrics.calls_ended.labels(end_reason=reason or "none").inc()
            log.info("call_ended", end_reason=reason, outcome=decision.outcome, turn=job.number)


def closing_request(
    call_id: str | None,
    lines: tuple[Line, ...],
    end_reason: EndReason | None,
    lead: Mapping[str, str] | None = None,
) -> LineRequest:
    """A line said after the funnel's last turn: the goodbye after a stop, a failed transfer."""
    return LineRequest(
        call_id=call_id or "unknown",
        turn=10_000,
        state=State.END,
        lines=lines,
        end_reason=end_reason,
        lead=lead or {},
    )


def request_from_plan(call_id: str, stored: TurnRow) -> LineRequest:
    """The line's request rebuilt from a stored turn, for an instance that did not decide it."""
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
