"""The funnel's transition table: what each caller intent does in each state, as data.

The table is checked when this module is imported (`validate`): one start state, every state
reachable from it, END without exits, and every (state, intent) pair of a live state defined.
`step()` in `engine.py` interprets it; nothing else decides where a call goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from voiceagent.funnel.states import Act, Cause, EndReason, Intent, Line, Outcome, State


class Move(StrEnum):
    """How a rule moves the call."""

    OPEN = "open"  # INIT only: say the opening, go to INTRO
    ADVANCE = "advance"  # next funnel step (the next qualifying question, or the next state)
    REASK = "reask"  # the caller's reply was unusable: say the prompt again, differently
    OBJECTION = "objection"  # answer the objection once; the next one ends the call
    DISCLOSE = "disclose"  # say plainly that this is an AI, then repeat the prompt
    HANDOFF = "handoff"  # transfer to HANDOFF_NUMBER, or say we can't and end
    END = "end"  # say goodbye (or the rule's own lines) and hang up
    ANSWER = "answer"  # answer the caller's question from the script, ask the prompt again
    CALLBACK = "callback"  # confirm the time heard and end; with no time heard, ask for one once
    FOLLOW_UP = "follow_up"  # confirm the email address and end; with none known, ask once


@dataclass(frozen=True, slots=True)
class Rule:
    move: Move
    end_reason: EndReason | None = None
    outcome: Outcome | None = None
    block_number: bool = False  # add the number to the do-not-call list
    note: str = ""  # why: shown in the README's funnel table
    lines: tuple[Line, ...] = ()  # END only: what is said instead of a plain goodbye
    quiet: bool = False  # END only: nothing is said (the caller is gone)


LIVE_STATES: tuple[State, ...] = (State.INIT, State.INTRO, State.QUALIFY, State.PITCH, State.CLOSE)
START: State = State.INIT

# The next state when a rule ADVANCEs out of a state (QUALIFY first walks its questions).
NEXT: dict[State, State] = {
    State.INIT: State.INTRO,
    State.INTRO: State.QUALIFY,
    State.QUALIFY: State.PITCH,
    State.PITCH: State.CLOSE,
    State.CLOSE: State.END,
}

# What the agent asks in each state: repeated after an AI question, silence or a re-ask.
PROMPT: dict[State, Line] = {
    State.INTRO: Line.ASK_TIME,
    State.QUALIFY: Line.ASK_QUESTION,
    State.PITCH: Line.ASK_INTEREST,
    State.CLOSE: Line.ASK_CLOSE,
}

_DNC = Rule(
    Move.END,
    EndReason.CALLER_DNC,
    block_number=True,
    note="apologise, end on this call, never dial the number again",
)
_HUMAN = Rule(Move.HANDOFF, note="transfer to HANDOFF_NUMBER; without one, say so and end")
_AI = Rule(Move.DISCLOSE, note="say plainly it is an AI assistant, then repeat the question")

# Safety intents behave the same in every live state.
_SAFETY: dict[Intent, Rule] = {
    Intent.DO_NOT_CALL: _DNC,
    Intent.HUMAN_REQUEST: _HUMAN,
    Intent.AI_QUESTION: _AI,
}

TABLE: dict[tuple[State, Intent], Rule] = {
    # INIT is left by the first webhook, before the caller has said anything.
    (State.INIT, Intent.INTERESTED): Rule(Move.OPEN, note="opening line"),
    (State.INIT, Intent.NOT_INTERESTED): Rule(Move.OPEN, note="opening line"),
    (State.INIT, Intent.UNCLEAR): Rule(Move.OPEN, note="opening line"),
    (State.INIT, Intent.AI_QUESTION): Rule(Move.OPEN, note="the opening discloses the AI"),
    # INTRO: the caller answers "is now a good time?".
    (State.INTRO, Intent.INTERESTED): Rule(Move.ADVANCE, note="first qualifying question"),
    (State.INTRO, Intent.NOT_INTERESTED): Rule(
        Move.OBJECTION,
        EndReason.NOT_INTERESTED,
        note="one 'it takes a minute' answer; a second no ends politely",
    ),
    (State.INTRO, Intent.UNCLEAR): Rule(
        Move.REASK, note="'Hello?' / 'Who is this?': introduce again, never taken as an answer"
    ),
    # QUALIFY: the caller answers each qualifying question in turn.
    (State.QUALIFY, Intent.INTERESTED): Rule(
        Move.ADVANCE, note="any substantive answer: next question, then PITCH"
    ),
    (State.QUALIFY, Intent.NOT_INTERESTED): Rule(
        Move.END, EndReason.NOT_INTERESTED, note="polite end (the brief's only early exit)"
    ),
    (State.QUALIFY, Intent.UNCLEAR): Rule(Move.REASK, note="ask the question another way"),
    # PITCH: the caller answers "does that sound useful?".
    (State.PITCH, Intent.INTERESTED): Rule(Move.ADVANCE, note="ask for the meeting"),
    (State.PITCH, Intent.NOT_INTERESTED): Rule(
        Move.OBJECTION,
        EndReason.NOT_INTERESTED,
        note="one objection answer from the script; a second no ends politely",
    ),
    (State.PITCH, Intent.UNCLEAR): Rule(Move.REASK, note="say the value in one line, ask again"),
    # CLOSE: the caller answers the ask for a meeting.
    (State.CLOSE, Intent.INTERESTED): Rule(
        Move.END, EndReason.COMPLETED, Outcome.CONVERTED, note="confirm the meeting, goodbye"
    ),
    (State.CLOSE, Intent.NOT_INTERESTED): Rule(
        Move.END, EndReason.COMPLETED, Outcome.DECLINED, note="thank them, goodbye"
    ),
    (State.CLOSE, Intent.UNCLEAR): Rule(Move.REASK, note="ask again, differently"),
}
for _state in LIVE_STATES:
    for _intent, _rule in _SAFETY.items():
        TABLE.setdefault((_state, _intent), _rule)


# What a caller's act does, in every state after INIT. An act rule is read before the intent's
# rule, but after the safety intents: "wrong number, and stop calling" is a do-not-call.
# Plain answers (`Act.ANSWER`) and `Act.NONE` have no rule here: the intent decides.
_ANSWER_QUESTION = Rule(
    Move.ANSWER, note="answer from the script's FAQ, then ask the pending question again"
)
_CALLBACK = Rule(
    Move.CALLBACK,
    EndReason.CALLBACK_REQUESTED,
    Outcome.CALLBACK,
    note="repeat the time heard back, store it, end politely; no time heard: ask once",
)
_FOLLOW_UP = Rule(
    Move.FOLLOW_UP,
    EndReason.COMPLETED,
    Outcome.FOLLOW_UP,
    note="confirm the email address, store a follow-up, end politely; none known: ask once",
)
_WRONG_NUMBER = Rule(
    Move.END,
    EndReason.WRONG_NUMBER,
    block_number=True,
    note="apologise (the goodbye for a wrong number), end, never dial the number again",
)
_HOSTILE = Rule(
    Move.END,
    EndReason.NOT_INTERESTED,
    lines=(Line.CALM,),
    note="one calm line that ends the call politely",
)
_OTHER_LANGUAGE = Rule(
    Move.END,
    EndReason.OTHER_LANGUAGE,
    lines=(Line.OTHER_LANGUAGE,),
    note="one line in the caller's language, with a goodbye",
)
QUESTIONS: tuple[Act, ...] = tuple(act for act in Act if act.kind == "question")
OBJECTIONS: tuple[Act, ...] = (
    Act.OBJECTION_HAS_PROVIDER,
    Act.OBJECTION_NO_BUDGET,
    Act.OBJECTION_NOT_DECISION_MAKER,
)
HANDLED_ACTS: tuple[Act, ...] = (
    *QUESTIONS,
    *OBJECTIONS,
    Act.OBJECTION_CALL_LATER,
    Act.OBJECTION_SEND_EMAIL,
    Act.WRONG_NUMBER,
    Act.HOSTILE,
    Act.OTHER_LANGUAGE,
)
ACT_STATES: tuple[State, ...] = (State.INTRO, State.QUALIFY, State.PITCH, State.CLOSE)


def _objection(state: State) -> Rule:
    if state is State.CLOSE:
        return Rule(
            Move.OBJECTION,
            EndReason.COMPLETED,
            Outcome.DECLINED,
            note="the script's answer for that kind, once; a second no is declined",
        )
    return Rule(
        Move.OBJECTION,
        EndReason.NOT_INTERESTED,
        note="the script's answer for that kind, once per state; a second no ends",
    )


ACTS: dict[tuple[State, Act], Rule] = {}
for _state in ACT_STATES:
    ACTS |= {(_state, act): _ANSWER_QUESTION for act in QUESTIONS}
    ACTS |= {(_state, act): _objection(_state) for act in OBJECTIONS}
    ACTS[(_state, Act.OBJECTION_CALL_LATER)] = _CALLBACK
    ACTS[(_state, Act.OBJECTION_SEND_EMAIL)] = _FOLLOW_UP
    ACTS[(_state, Act.WRONG_NUMBER)] = _WRONG_NUMBER
    ACTS[(_state, Act.HOSTILE)] = _HOSTILE
    ACTS[(_state, Act.OTHER_LANGUAGE)] = _OTHER_LANGUAGE


# How a call ends when something outside the conversation stops it, from any live state.
STOPS: dict[Cause, Rule] = {
    Cause.LANGUAGE_FAILED: Rule(
        Move.END, EndReason.LLM_ERROR, note="the script's goodbye, then hang up; status failed"
    ),
    Cause.CARRIER_FAILED: Rule(
        Move.END, EndReason.TELEPHONY_ERROR, note="the carrier's fallback: a goodbye, hang up"
    ),
    Cause.CALLER_HUNG_UP: Rule(
        Move.END, EndReason.CALLER_HUNG_UP, note="nothing more is said", quiet=True
    ),
    Cause.OPERATOR_HUNG_UP: Rule(
        Move.END, EndReason.OPERATOR_HANGUP, note="nothing more is said", quiet=True
    ),
}


class FunnelTableError(Exception):
    """The transition table is inconsistent (raised at import, never at call time)."""


def _targets(state: State, rule: Rule) -> set[State]:
    if rule.move is Move.OPEN:
        return {State.INTRO}
    if rule.move is Move.ADVANCE:
        return {state, NEXT[state]} if state is State.QUALIFY else {NEXT[state]}
    if rule.move is Move.REASK:
        # Re-asks are bounded: once used up, the funnel moves on (see engine.step).
        return {state, NEXT[state]}
    if rule.move in (Move.OBJECTION, Move.DISCLOSE):
        return {state, State.END}
    if rule.move is Move.ANSWER:
        # A question answered in QUALIFY may also answer the pending question: the funnel moves on.
        return {state, NEXT[state]} if state is State.QUALIFY else {state}
    if rule.move in (Move.CALLBACK, Move.FOLLOW_UP):
        return {state, State.END}
    return {State.END}


def validate(
    table: dict[tuple[State, Intent], Rule], acts: dict[tuple[State, Act], Rule] | None = None
) -> None:
    missing = [(s, i) for s in LIVE_STATES for i in Intent if (s, i) not in table]
    if missing:
        raise FunnelTableError(f"no rule for {missing}")
    acts = ACTS if acts is None else acts
    missing_acts = [(s, a) for s in ACT_STATES for a in HANDLED_ACTS if (s, a) not in acts]
    if missing_acts:
        raise FunnelTableError(f"no rule for the acts {missing_acts}")
    if any(rule.lines and rule.move is not Move.END for rule in (*table.values(), *acts.values())):
        raise FunnelTableError("only an END rule may name its own lines")
    if set(STOPS) != set(Cause) or any(rule.move is not Move.END for rule in STOPS.values()):
        raise FunnelTableError("every stop cause needs one END rule")
    if any(state is State.END for state, _ in table):
        raise FunnelTableError("END has no exits, but the table defines one")
    starts = [s for s in LIVE_STATES if s not in {t for s2 in NEXT for t in [NEXT[s2]]}]
    if starts != [START]:
        raise FunnelTableError(f"expected one start state {START}, found {starts}")
    reachable, frontier = {START}, [START]
    while frontier:
        state = frontier.pop()
        for intent in Intent:
            for target in _targets(state, table[(state, intent)]):
                if target not in reachable and target is not State.END:
                    frontier.append(target)
                reachable.add(target)
    unreachable = set(State) - reachable
    if unreachable:
        raise FunnelTableError(f"unreachable states: {sorted(unreachable)}")


validate(TABLE, ACTS)
