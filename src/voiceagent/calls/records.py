"""What a turn writes, in the order it happens: the decision, then the answer, then the full line.

Each function is one transaction. The decision (turn row, caller message, transition, progress,
do-not-call entry) is written while the line is being written, and nothing else about the turn
is stored before it: nothing the caller said or the funnel decided is lost when a provider
fails or an instance dies mid-turn.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import update

from voiceagent.db import calls_repo, dnc_repo, turns_repo
from voiceagent.db.engine import Sessions
from voiceagent.db.tables import CallRow, MessageRow, TransitionRow, TurnRow, utcnow
from voiceagent.funnel import Decision, EndReason, Outcome, State, Then

if TYPE_CHECKING:
    from voiceagent.calls.understand import Understood

MAX_CALLBACK_NOTE = 120


@dataclass(frozen=True)
class Learned:
    """What a turn teaches the call about the caller, stored with its decision."""

    answers: dict[str, Any] | None = None  # None: nothing new
    callback_at: datetime | None = None
    callback_note: str | None = None
    follow_up_to: str | None = None
    meeting_at: datetime | None = None  # a yes at CLOSE that named a time
    meeting_note: str | None = None
    # What the line writer needs besides the decision, so any instance can write the line.
    line: dict[str, Any] = field(default_factory=dict)


def learned_of(read: Understood | None, decision: Decision) -> Learned:
    if read is None:
        return Learned()
    callback = read.callback if decision.outcome is Outcome.CALLBACK else None
    meeting = read.callback if decision.outcome is Outcome.CONVERTED else None
    email = read.email if decision.outcome is Outcome.FOLLOW_UP else ""
    return Learned(
        answers=read.answers if read.new_fields else None,
        callback_at=callback.at.astimezone(UTC) if callback else None,
        callback_note=callback.spoken[:MAX_CALLBACK_NOTE] if callback else None,
        follow_up_to=email or None,
        meeting_at=meeting.at.astimezone(UTC) if meeting else None,
        meeting_note=meeting.spoken[:MAX_CALLBACK_NOTE] if meeting else None,
        line={
            "act": decision.act.value,
            "facts": read.facts,
            "time_heard": read.callback.spoken if read.callback else "",
            "email": read.email,
            "language": read.language,
        },
    )


def plan_of(decision: Decision, learned: Learned | None = None) -> dict[str, Any]:
    """The part of a decision any instance needs to write the line and its TwiML."""
    return {
        "lines": [line.value for line in decision.lines],
        "then": decision.then.value,
        "state": decision.state.value,
        "question": decision.progress.question,
        "reask": decision.reask,
        "end_reason": decision.end_reason.value if decision.end_reason else None,
        "outcome": decision.outcome.value if decision.outcome else None,
        **(learned.line if learned else {}),
    }


async def record_decision(
    sessions: Sessions,
    *,
    call_id: str,
    number: int,
    speech: str,
    intent: str | None,
    classify_ms: float,
    decision: Decision,
    sid: str,
    act: str | None = None,
    learned: Learned | None = None,
) -> None:
    """Store the turn as pending with everything the funnel decided. Raises IntegrityError
    when the same turn was stored already (a retried webhook raced this one)."""
    now = utcnow()
    async with sessions() as session, session.begin():
        row = await calls_repo.get_call(session=session, call_id=call_id, lock=True)
        assert row is not None  # calls are never deleted while they run
        session.add(
            TurnRow(
                call_id=call_id,
                number=number,
                status="pending",
                twiml="",
                plan=plan_of(decision, learned),
                created_at=now,
            )
        )
        await session.flush()  # the unique (call_id, number) is checked here, first
        if speech:
            session.add(
                MessageRow(
                    call_id=call_id,
                    seq=await turns_repo.next_message_seq(session=session, call_id=call_id),
                    role="caller",
                    text=speech,
                    state=row.state,
                    intent=intent,
                    act=act,
                    latency_ms=round(classify_ms, 3),
                    created_at=now,
                )
            )
        if decision.state.value != row.state:
            await _transition(session, row, decision.state.value, intent, now)
        _apply(row, decision, sid, now)
        if learned is not None:
            _remember(row, learned)
        if decision.block_number:
            wrong = decision.end_reason is EndReason.WRONG_NUMBER
            await dnc_repo.block_number(
                session=session,
                phone=row.phone,
                source="caller_request",
                call_id=call_id,
                note="wrong number" if wrong else None,
            )


async def record_answer(
    sessions: Sessions,
    *,
    call_id: str,
    number: int,
    twiml: str,
    text: str,
    state: str,
    audio_id: str | None,
    latency_ms: float,
    stages: dict[str, float],
    interrupted: bool = False,
) -> bool:
    """Make a pending turn ready with its TwiML and store the agent's line (as known so far).

    False when the turn was already answered (another instance gave up waiting and answered it
    with the scripted line): then this answer is dropped and nothing is written.
    """
    now = utcnow()
    async with sessions() as session, session.begin():
        await calls_repo.get_call(session=session, call_id=call_id, lock=True)
        result = await session.execute(
            update(TurnRow)
            .where(
                TurnRow.call_id == call_id,
                TurnRow.number == number,
                TurnRow.status == "pending",
            )
            .values(status="ready", twiml=twiml, ready_at=now)
        )
        if getattr(result, "rowcount", 0) != 1:
            return False
        session.add(
            MessageRow(
                call_id=call_id,
                seq=await turns_repo.next_message_seq(session=session, call_id=call_id),
                role="agent",
                text=text,
                state=state,
                latency_ms=round(latency_ms, 3),
                stages=_rounded(stages),
                audio_id=audio_id,
                interrupted=interrupted,
                created_at=now,
            )
        )
    return True


async def complete_line(
    sessions: Sessions, *, call_id: str, audio_id: str | None, text: str, stages: dict[str, float]
) -> None:
    """The whole line is written (and spoken): store its full text and every stage's time."""
    async with sessions() as session, session.begin():
        message = await turns_repo.last_agent_message(session=session, call_id=call_id)
        if message is None or message.audio_id != audio_id:
            return
        message.text = text
        message.stages = _rounded(stages)


async def apply_stop(session: Any, row: CallRow, decision: Decision) -> None:
    """Store a stop the funnel decided (see `funnel.STOPS`), inside the caller's transaction."""
    now = utcnow()
    await _transition(session, row, State.END.value, None, now)
    row.state = State.END.value
    row.progress = asdict(decision.progress)
    row.end_reason = decision.end_reason.value if decision.end_reason else None
    row.outcome = decision.outcome.value if decision.outcome else None
    if decision.end_reason is EndReason.LLM_ERROR:
        row.status = "failed"
        row.ended_at = row.ended_at or now


async def _transition(
    session: Any, row: CallRow, to_state: str, intent: str | None, now: datetime
) -> None:
    session.add(
        TransitionRow(
            call_id=row.id,
            seq=await turns_repo.next_transition_seq(session=session, call_id=row.id),
            from_state=row.state,
            to_state=to_state,
            intent=intent,
            at=now,
        )
    )


def _apply(row: CallRow, decision: Decision, sid: str, now: datetime) -> None:
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


def _remember(row: CallRow, learned: Learned) -> None:
    if learned.answers is not None:
        row.answers = dict(learned.answers)
    if learned.callback_note is not None:
        row.callback_at = learned.callback_at
        row.callback_note = learned.callback_note
    if learned.follow_up_to is not None:
        row.follow_up_to = learned.follow_up_to
    if learned.meeting_note is not None:
        row.meeting_at = learned.meeting_at
        row.meeting_note = learned.meeting_note


def _rounded(stages: dict[str, float]) -> dict[str, float]:
    return {name: round(ms, 3) for name, ms in stages.items()}


async def stored_answer(sessions: Sessions, call_id: str, number: int) -> str | None:
    """A turn's stored answer, once it is ready."""
    async with sessions() as session:
        row = await turns_repo.get_turn(session=session, call_id=call_id, number=number)
    return row.twiml if row is not None and row.status == "ready" else None


async def stored_turn(sessions: Sessions, call_id: str, number: int) -> TurnRow | None:
    async with sessions() as session:
        return await turns_repo.get_turn(session=session, call_id=call_id, number=number)


async def interrupt_line(sessions: Sessions, *, call_id: str, heard: str) -> bool:
    """The caller spoke over the agent's last line: store what they heard of it, flagged."""
    async with sessions() as session, session.begin():
        message = await turns_repo.last_agent_message(session=session, call_id=call_id)
        if message is None:
            return False
        message.text = heard.strip() or message.text
        message.interrupted = True
    return True
