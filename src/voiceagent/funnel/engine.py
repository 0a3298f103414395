"""`step()`: the one pure function that moves a call through the funnel.

It reads the transition table, the call's `Progress` and one event, and returns a `Decision` as
data: the new progress, what the agent's line must do, and what happens after it (listen, hang up,
transfer). No I/O, no clock, no imports from the rest of the project.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from voiceagent.funnel.states import (
    SAFETY_INTENTS,
    Act,
    Cause,
    EndReason,
    Intent,
    Line,
    Outcome,
    State,
)
from voiceagent.funnel.table import ACTS, NEXT, PROMPT, STOPS, TABLE, Move, Rule

# What the call is waiting for after the agent asked for a callback time or an email address.
AWAIT_TIME = "callback_time"
AWAIT_EMAIL = "email"


@dataclass(frozen=True, slots=True)
class Limits:
    """The bounds that keep every call finite; built from settings and the script."""

    questions: int = 2  # qualifying questions in the script (at least one)
    max_reasks: int = 2  # unclear replies re-asked per prompt before the funnel moves on
    max_objections: int = 1  # objections answered per state before the call ends
    silence_timeout: float = 8.0  # seconds of silence in a row that end the call
    max_turns: int = 30  # caller turns before the call ends politely whatever happens
    handoff_available: bool = False  # HANDOFF_NUMBER is configured


@dataclass(frozen=True, slots=True)
class Progress:
    """The funnel's memory of one call; stored on the call row between webhooks."""

    state: State = State.INIT
    question: int = 0  # the qualifying question being asked
    reasks: int = 0  # unclear replies to the current prompt
    objections: int = 0  # objections answered in the current state
    silent_seconds: float = 0.0  # silence in a row, counted from Gather timeouts
    turns: int = 0  # caller turns so far (answers and silences)
    awaiting: str = ""  # AWAIT_TIME or AWAIT_EMAIL: the agent asked for it, the next reply ends

    @classmethod
    def restore(cls, stored: Mapping[str, Any]) -> Progress:
        """Rebuild from the JSON stored on the call row (an empty mapping is a new call)."""
        fields = dict(stored)
        if "state" in fields:
            fields["state"] = State(fields["state"])
        return cls(**fields)


@dataclass(frozen=True, slots=True)
class Answered:
    """The call connected: the first webhook, before the caller has said anything."""


@dataclass(frozen=True, slots=True)
class Heard:
    """What the caller said, as the classifier and the fact extractors read it."""

    intent: Intent
    act: Act = Act.NONE
    # The qualifying questions (by index) answered so far, this reply included: never asked again.
    answered: frozenset[int] = frozenset()
    time_heard: bool = False  # a time was named in this reply (a callback, or the meeting)
    email_known: bool = False  # an address to send a follow-up to is known (the lead's, or heard)
    doubtful: bool = False  # the classifier was unsure of the intent (under even odds)


@dataclass(frozen=True, slots=True)
class Silence:
    seconds: float  # the Gather timeout that passed with nothing said


@dataclass(frozen=True, slots=True)
class Stopped:
    """Something outside the conversation ends the call: a failure, or a hang-up."""

    cause: Cause


Event = Answered | Heard | Silence | Stopped


class Then(StrEnum):
    LISTEN = "listen"
    HANG_UP = "hang_up"
    TRANSFER = "transfer"


@dataclass(frozen=True, slots=True)
class Decision:
    progress: Progress
    lines: tuple[Line, ...]
    then: Then = Then.LISTEN
    reask: bool = False  # the line repeats a prompt: the writer should vary it
    end_reason: EndReason | None = None
    outcome: Outcome | None = None
    block_number: bool = False
    act: Act = Act.NONE  # the caller's act this line answers (a question's topic, an objection)

    @property
    def state(self) -> State:
        return self.progress.state


class TransitionNotAllowed(Exception):
    def __init__(self, event: Event, state: State) -> None:
        super().__init__(f"Can't handle {event!r} when in {state}")


def step(progress: Progress, event: Event, limits: Limits) -> Decision:
    """Return what the agent does next; `progress` is not modified."""
    state = progress.state
    if state is State.END:
        raise TransitionNotAllowed(event, state)
    if isinstance(event, Stopped):
        rule = STOPS[event.cause]
        said = () if rule.quiet else rule.lines or (Line.GOODBYE,)
        return _end(progress, said, rule.end_reason, rule.outcome)
    if state is State.INIT:
        intent = event.intent if isinstance(event, Heard) else Intent.UNCLEAR
        return _apply(progress, TABLE[(state, intent)], Heard(intent), limits)
    turn = replace(progress, turns=progress.turns + 1)
    if isinstance(event, Silence):
        return _silence(turn, event.seconds, limits)
    heard = event if isinstance(event, Heard) else Heard(Intent.UNCLEAR)
    turn = replace(turn, silent_seconds=0.0)
    if heard.intent in SAFETY_INTENTS:
        return _apply(turn, TABLE[(state, heard.intent)], heard, limits)
    if turn.awaiting:
        return _awaited(turn, heard)
    act_rule = ACTS.get((state, heard.act))
    if act_rule is not None:
        return _apply(turn, act_rule, heard, limits)
    firm_no = heard.intent is Intent.NOT_INTERESTED and not heard.doubtful
    if state is State.QUALIFY and turn.question in heard.answered and not firm_no:
        # The reply answers the question whatever its label ("sixty" reads as unclear; "it's
        # ADP" is a coin toss between yes and no): the caller told us, so the call goes on. A
        # firm no ("we use ADP, not interested") still ends below.
        return _advance(turn, limits, heard)
    return _apply(turn, TABLE[(state, heard.intent)], heard, limits)


def _apply(progress: Progress, rule: Rule, heard: Heard, limits: Limits) -> Decision:
    move, state = rule.move, progress.state
    if move is Move.END:
        said = rule.lines or (Line.GOODBYE,)
        if rule.outcome is Outcome.CONVERTED and heard.time_heard:
            said = (Line.CONFIRM_MEETING, *said)  # "Thursday afternoon works": said back
        return _end(progress, said, rule.end_reason, rule.outcome, rule.block_number, heard.act)
    if move is Move.HANDOFF:
        if limits.handoff_available:
            done = replace(progress, state=State.END)
            return Decision(done, (Line.TRANSFER,), Then.TRANSFER, end_reason=EndReason.TRANSFERRED)
        cannot = (Line.CANNOT_TRANSFER, Line.GOODBYE)
        return _end(progress, cannot, EndReason.HANDOFF_UNCONFIGURED)
    if move is Move.CALLBACK:
        if heard.time_heard:
            return _callback(progress, rule)
        asking = replace(progress, awaiting=AWAIT_TIME)
        return Decision(asking, (Line.ASK_CALLBACK_TIME,), act=heard.act)
    if move is Move.FOLLOW_UP:
        if heard.email_known:
            return _follow_up(progress, rule, confirm=True)
        asking = replace(progress, awaiting=AWAIT_EMAIL)
        return Decision(asking, (Line.ASK_EMAIL,), act=heard.act)
    if progress.turns >= limits.max_turns:
        last = (Line.DISCLOSE_AI, Line.GOODBYE) if move is Move.DISCLOSE else (Line.GOODBYE,)
        return _end(progress, last, EndReason.TURN_LIMIT)
    if move is Move.OPEN:
        return Decision(replace(progress, state=State.INTRO), (Line.OPENING,))
    if move is Move.ADVANCE:
        return _advance(progress, limits, heard)
    if move is Move.DISCLOSE:
        return Decision(progress, (Line.DISCLOSE_AI, PROMPT[state]))
    if move is Move.ANSWER:
        return _then_prompt(progress, Line.ANSWER_QUESTION, heard, limits)
    if move is Move.OBJECTION:
        if progress.objections >= limits.max_objections:
            return _end(progress, (Line.GOODBYE,), rule.end_reason, rule.outcome, act=heard.act)
        answered = replace(progress, objections=progress.objections + 1)
        return _then_prompt(answered, Line.HANDLE_OBJECTION, heard, limits)
    # Move.REASK: bounded, then the funnel moves on rather than looping on a bad line.
    if progress.reasks >= limits.max_reasks:
        return _advance(progress, limits, heard, gave_up=True)
    again = replace(progress, reasks=progress.reasks + 1)
    lines: tuple[Line, ...] = (
        (Line.REINTRODUCE, Line.ASK_TIME) if state is State.INTRO else (PROMPT[state],)
    )
    return Decision(again, lines, reask=True)


def _then_prompt(progress: Progress, first: Line, heard: Heard, limits: Limits) -> Decision:
    """Say `first` (an answer to a question or an objection), then the pending prompt.

    In QUALIFY, a reply that also answered the pending question moves on to the next one.
    """
    if progress.state is State.QUALIFY and progress.question in heard.answered:
        moved = _advance(progress, limits, heard)
        if moved.state is not State.END:
            return replace(moved, lines=(first, *moved.lines), act=heard.act)
    return Decision(progress, (first, PROMPT[progress.state]), act=heard.act)


def _awaited(progress: Progress, heard: Heard) -> Decision:
    """The reply to "when is better?" or "what's your email?": either way the call ends."""
    waiting, done = progress.awaiting, replace(progress, awaiting="")
    if waiting == AWAIT_TIME:
        rule = ACTS[(progress.state, Act.OBJECTION_CALL_LATER)]
        return _callback(done, rule, confirm=heard.time_heard)
    rule = ACTS[(progress.state, Act.OBJECTION_SEND_EMAIL)]
    return _follow_up(done, rule, confirm=heard.email_known)


def _callback(progress: Progress, rule: Rule, *, confirm: bool = True) -> Decision:
    lines = (Line.CONFIRM_CALLBACK, Line.GOODBYE) if confirm else (Line.GOODBYE,)
    act = Act.OBJECTION_CALL_LATER
    return _end(progress, lines, rule.end_reason, rule.outcome, act=act)


def _follow_up(progress: Progress, rule: Rule, *, confirm: bool) -> Decision:
    lines = (Line.CONFIRM_EMAIL, Line.GOODBYE) if confirm else (Line.GOODBYE,)
    act = Act.OBJECTION_SEND_EMAIL
    return _end(progress, lines, rule.end_reason, rule.outcome, act=act)


def _advance(
    progress: Progress, limits: Limits, heard: Heard, *, gave_up: bool = False
) -> Decision:
    state = progress.state
    if state is State.QUALIFY:
        following = _unanswered(progress.question + 1, heard.answered, limits)
        if following is not None:
            moved = replace(progress, question=following, reasks=0)
            return Decision(moved, (Line.ASK_QUESTION,))
    nxt = NEXT[state]
    if nxt is State.END:
        # Only a clear yes to the close ask converts; running out of re-asks is no yes.
        outcome = Outcome.DECLINED if gave_up else Outcome.CONVERTED
        return _end(progress, (Line.GOODBYE,), EndReason.COMPLETED, outcome)
    first = _unanswered(0, heard.answered, limits)
    if nxt is State.QUALIFY and first is None:
        nxt = State.PITCH  # everything QUALIFY would ask was answered already
    moved = replace(progress, state=nxt, question=first or 0, reasks=0, objections=0)
    lines: tuple[Line, ...] = {
        State.QUALIFY: (Line.ASK_QUESTION,),
        State.PITCH: (Line.PITCH, Line.ASK_INTEREST),
        State.CLOSE: (Line.ASK_CLOSE,),
    }[nxt]
    return Decision(moved, lines)


def _unanswered(start: int, answered: frozenset[int], limits: Limits) -> int | None:
    """The first qualifying question from `start` on that the caller has not answered yet."""
    return next((i for i in range(start, limits.questions) if i not in answered), None)


def _silence(progress: Progress, seconds: float, limits: Limits) -> Decision:
    silent = progress.silent_seconds + seconds
    if silent >= limits.silence_timeout:
        return _end(progress, (Line.GOODBYE,), EndReason.SILENCE_TIMEOUT)
    if progress.turns >= limits.max_turns:
        return _end(progress, (Line.GOODBYE,), EndReason.TURN_LIMIT)
    quiet = replace(progress, silent_seconds=silent)
    # Asked for a callback time or an address: that is the question still waiting.
    waiting = {AWAIT_TIME: Line.ASK_CALLBACK_TIME, AWAIT_EMAIL: Line.ASK_EMAIL}
    prompt = waiting.get(progress.awaiting, PROMPT[progress.state])
    return Decision(quiet, (Line.CHECK_PRESENCE, prompt), reask=True)


def _end(
    progress: Progress,
    lines: tuple[Line, ...],
    reason: EndReason | None,
    outcome: Outcome | None = None,
    block_number: bool = False,
    act: Act = Act.NONE,
) -> Decision:
    done = replace(progress, state=State.END, awaiting="")
    return Decision(done, lines, Then.HANG_UP, False, reason, outcome, block_number, act)
