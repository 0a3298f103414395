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

from voiceagent.funnel.states import EndReason, Intent, Line, Outcome, State
from voiceagent.funnel.table import NEXT, PROMPT, TABLE, Move, Rule


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
    intent: Intent


@dataclass(frozen=True, slots=True)
class Silence:
    seconds: float  # the Gather timeout that passed with nothing said


Event = Answered | Heard | Silence


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
    if state is State.INIT:
        intent = event.intent if isinstance(event, Heard) else Intent.UNCLEAR
        return _apply(progress, TABLE[(state, intent)], intent, limits)
    turn = replace(progress, turns=progress.turns + 1)
    if isinstance(event, Silence):
        return _silence(turn, event.seconds, limits)
    intent = event.intent if isinstance(event, Heard) else Intent.UNCLEAR
    return _apply(replace(turn, silent_seconds=0.0), TABLE[(state, intent)], intent, limits)


def _apply(progress: Progress, rule: Rule, intent: Intent, limits: Limits) -> Decision:
    move, state = rule.move, progress.state
    if move is Move.END:
        return _end(progress, (Line.GOODBYE,), rule.end_reason, rule.outcome, rule.block_number)
    if move is Move.HANDOFF:
        if limits.handoff_available:
            done = replace(progress, state=State.END)
            return Decision(done, (Line.TRANSFER,), Then.TRANSFER, end_reason=EndReason.TRANSFERRED)
        cannot = (Line.CANNOT_TRANSFER, Line.GOODBYE)
        return _end(progress, cannot, EndReason.HANDOFF_UNCONFIGURED)
    if progress.turns >= limits.max_turns:
        last = (Line.DISCLOSE_AI, Line.GOODBYE) if move is Move.DISCLOSE else (Line.GOODBYE,)
        return _end(progress, last, EndReason.TURN_LIMIT)
    if move is Move.OPEN:
        return Decision(replace(progress, state=State.INTRO), (Line.OPENING,))
    if move is Move.ADVANCE:
        return _advance(progress, limits)
    if move is Move.DISCLOSE:
        return Decision(progress, (Line.DISCLOSE_AI, PROMPT[state]))
    if move is Move.OBJECTION:
        if progress.objections >= limits.max_objections:
            return _end(progress, (Line.GOODBYE,), rule.end_reason)
        answered = replace(progress, objections=progress.objections + 1)
        return Decision(answered, (Line.HANDLE_OBJECTION, PROMPT[state]))
    # Move.REASK: bounded, then the funnel moves on rather than looping on a bad line.
    if progress.reasks >= limits.max_reasks:
        return _advance(progress, limits, gave_up=True)
    again = replace(progress, reasks=progress.reasks + 1)
    lines: tuple[Line, ...] = (
        (Line.REINTRODUCE, Line.ASK_TIME) if state is State.INTRO else (PROMPT[state],)
    )
    return Decision(again, lines, reask=True)


def _advance(progress: Progress, limits: Limits, *, gave_up: bool = False) -> Decision:
    state = progress.state
    if state is State.QUALIFY and progress.question + 1 < limits.questions:
        moved = replace(progress, question=progress.question + 1, reasks=0)
        return Decision(moved, (Line.ASK_QUESTION,))
    nxt = NEXT[state]
    if nxt is State.END:
        outcome = Outcome.DECLINED if gave_up else Outcome.CONVERTED
        return _end(progress, (Line.GOODBYE,), EndReason.COMPLETED, outcome)
    moved = replace(progress, state=nxt, question=0, reasks=0, objections=0)
    lines: tuple[Line, ...] = {
        State.QUALIFY: (Line.ASK_QUESTION,),
        State.PITCH: (Line.PITCH, Line.ASK_INTEREST),
        State.CLOSE: (Line.ASK_CLOSE,),
    }[nxt]
    return Decision(moved, lines)


def _silence(progress: Progress, seconds: float, limits: Limits) -> Decision:
    silent = progress.silent_seconds + seconds
    if silent >= limits.silence_timeout:
        return _end(progress, (Line.GOODBYE,), EndReason.SILENCE_TIMEOUT)
    if progress.turns >= limits.max_turns:
        return _end(progress, (Line.GOODBYE,), EndReason.TURN_LIMIT)
    quiet = replace(progress, silent_seconds=silent)
    return Decision(quiet, (Line.CHECK_PRESENCE, PROMPT[progress.state]), reask=True)


def _end(
    progress: Progress,
    lines: tuple[Line, ...],
    reason: EndReason | None,
    outcome: Outcome | None = None,
    block_number: bool = False,
) -> Decision:
    done = replace(progress, state=State.END)
    return Decision(done, lines, Then.HANG_UP, False, reason, outcome, block_number)
