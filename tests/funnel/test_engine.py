"""`step()`: every (state, intent) pair, silence, limits; properties over any caller."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    TransitionNotAllowed,
    step,
)
from voiceagent.funnel.table import NEXT

LIMITS = Limits(questions=2, max_reasks=2, max_objections=1, silence_timeout=8, max_turns=30)
I = Intent  # noqa: E741  (short: the case table below is wide)


def at(state: State, **fields: object) -> Progress:
    return replace(Progress(state=state, turns=1), **fields)  # type: ignore[arg-type]


def heard(progress: Progress, intent: Intent, limits: Limits = LIMITS) -> Decision:
    return step(progress, Heard(intent), limits)


# (state, intent) -> (next state, lines, then, end_reason, outcome), from a fresh state.
CASES: list[
    tuple[State, Intent, State, tuple[Line, ...], Then, EndReason | None, Outcome | None]
] = [
    (State.INTRO, I.INTERESTED, State.QUALIFY, (Line.ASK_QUESTION,), Then.LISTEN, None, None),
    (
        State.INTRO,
        I.NOT_INTERESTED,
        State.INTRO,
        (Line.HANDLE_OBJECTION, Line.ASK_TIME),
        Then.LISTEN,
        None,
        None,
    ),
    (
        State.INTRO,
        I.UNCLEAR,
        State.INTRO,
        (Line.REINTRODUCE, Line.ASK_TIME),
        Then.LISTEN,
        None,
        None,
    ),
    (State.QUALIFY, I.INTERESTED, State.QUALIFY, (Line.ASK_QUESTION,), Then.LISTEN, None, None),
    (
        State.QUALIFY,
        I.NOT_INTERESTED,
        State.END,
        (Line.GOODBYE,),
        Then.HANG_UP,
        EndReason.NOT_INTERESTED,
        None,
    ),
    (State.QUALIFY, I.UNCLEAR, State.QUALIFY, (Line.ASK_QUESTION,), Then.LISTEN, None, None),
    (State.PITCH, I.INTERESTED, State.CLOSE, (Line.ASK_CLOSE,), Then.LISTEN, None, None),
    (
        State.PITCH,
        I.NOT_INTERESTED,
        State.PITCH,
        (Line.HANDLE_OBJECTION, Line.ASK_INTEREST),
        Then.LISTEN,
        None,
        None,
    ),
    (State.PITCH, I.UNCLEAR, State.PITCH, (Line.ASK_INTEREST,), Then.LISTEN, None, None),
    (
        State.CLOSE,
        I.INTERESTED,
        State.END,
        (Line.GOODBYE,),
        Then.HANG_UP,
        EndReason.COMPLETED,
        Outcome.CONVERTED,
    ),
    (
        State.CLOSE,
        I.NOT_INTERESTED,
        State.END,
        (Line.GOODBYE,),
        Then.HANG_UP,
        EndReason.COMPLETED,
        Outcome.DECLINED,
    ),
    (State.CLOSE, I.UNCLEAR, State.CLOSE, (Line.ASK_CLOSE,), Then.LISTEN, None, None),
]
for _state, _prompt in [
    (State.INTRO, Line.ASK_TIME),
    (State.QUALIFY, Line.ASK_QUESTION),
    (State.PITCH, Line.ASK_INTEREST),
    (State.CLOSE, Line.ASK_CLOSE),
]:
    CASES += [
        (_state, I.AI_QUESTION, _state, (Line.DISCLOSE_AI, _prompt), Then.LISTEN, None, None),
        (
            _state,
            I.HUMAN_REQUEST,
            State.END,
            (Line.CANNOT_TRANSFER, Line.GOODBYE),
            Then.HANG_UP,
            EndReason.HANDOFF_UNCONFIGURED,
            None,
        ),
        (
            _state,
            I.DO_NOT_CALL,
            State.END,
            (Line.GOODBYE,),
            Then.HANG_UP,
            EndReason.CALLER_DNC,
            None,
        ),
    ]


@pytest.mark.parametrize(
    ("state", "intent", "to", "lines", "then", "reason", "outcome"),
    CASES,
    ids=[f"{c[0]}-{c[1]}" for c in CASES],
)
def test_each_state_and_intent(
    state: State,
    intent: Intent,
    to: State,
    lines: tuple[Line, ...],
    then: Then,
    reason: EndReason | None,
    outcome: Outcome | None,
) -> None:
    decision = heard(at(state), intent)
    assert (decision.state, decision.lines, decision.then) == (to, lines, then)
    assert (decision.end_reason, decision.outcome) == (reason, outcome)


def test_cases_cover_every_live_pair() -> None:
    covered = {(c[0], c[1]) for c in CASES}
    assert covered == {(s, i) for s in NEXT if s is not State.INIT for i in Intent}


@pytest.mark.parametrize("intent", list(Intent))
def test_init_opens_whatever_happens_first(intent: Intent) -> None:
    expected = State.END if intent in (I.DO_NOT_CALL, I.HUMAN_REQUEST) else State.INTRO
    assert heard(Progress(), intent).state is expected
    assert step(Progress(), Answered(), LIMITS).lines == (Line.OPENING,)


def test_dnc_blocks_the_number() -> None:
    assert heard(at(State.PITCH), I.DO_NOT_CALL).block_number
    assert not heard(at(State.PITCH), I.NOT_INTERESTED).block_number


def test_human_request_transfers_when_a_handoff_number_is_set() -> None:
    decision = heard(at(State.QUALIFY), I.HUMAN_REQUEST, replace(LIMITS, handoff_available=True))
    assert (decision.then, decision.lines, decision.end_reason) == (
        Then.TRANSFER,
        (Line.TRANSFER,),
        EndReason.TRANSFERRED,
    )


def test_qualify_walks_every_question_before_the_pitch() -> None:
    first = heard(at(State.INTRO), I.INTERESTED)
    second = heard(first.progress, I.INTERESTED)
    pitch = heard(second.progress, I.INTERESTED)
    assert (first.progress.question, second.progress.question) == (0, 1)
    assert (pitch.state, pitch.lines) == (State.PITCH, (Line.PITCH, Line.ASK_INTEREST))


def test_a_second_objection_ends_the_call() -> None:
    once = heard(at(State.PITCH), I.NOT_INTERESTED)
    twice = heard(once.progress, I.NOT_INTERESTED)
    assert (twice.state, twice.end_reason) == (State.END, EndReason.NOT_INTERESTED)


def test_unclear_replies_are_reasked_a_bounded_number_of_times() -> None:
    progress = at(State.PITCH)
    for _ in range(LIMITS.max_reasks):
        decision = heard(progress, I.UNCLEAR)
        assert decision.reask
        assert decision.state is State.PITCH
        progress = decision.progress
    assert heard(progress, I.UNCLEAR).state is State.CLOSE


def test_unclear_at_close_ends_declined_once_the_reasks_are_used() -> None:
    decision = heard(at(State.CLOSE, reasks=LIMITS.max_reasks), I.UNCLEAR)
    assert (decision.end_reason, decision.outcome) == (EndReason.COMPLETED, Outcome.DECLINED)


def test_silence_counts_gather_timeouts_in_a_row() -> None:
    first = step(at(State.QUALIFY), Silence(4), LIMITS)
    assert first.lines == (Line.CHECK_PRESENCE, Line.ASK_QUESTION)
    second = step(first.progress, Silence(4), LIMITS)
    assert (second.state, second.end_reason) == (State.END, EndReason.SILENCE_TIMEOUT)


def test_speech_resets_the_silence_count() -> None:
    quiet = step(at(State.QUALIFY), Silence(4), LIMITS)
    spoke = heard(quiet.progress, I.UNCLEAR)
    assert spoke.progress.silent_seconds == 0
    assert step(spoke.progress, Silence(4), LIMITS).state is State.QUALIFY


def test_the_turn_limit_ends_the_call_but_still_discloses() -> None:
    decision = heard(at(State.PITCH, turns=LIMITS.max_turns), I.AI_QUESTION)
    assert (decision.end_reason, decision.lines) == (
        EndReason.TURN_LIMIT,
        (Line.DISCLOSE_AI, Line.GOODBYE),
    )


def test_end_refuses_to_step() -> None:
    with pytest.raises(TransitionNotAllowed, match=r"Can.t handle .* when in END"):
        step(Progress(state=State.END), Heard(I.INTERESTED), LIMITS)


ORDER = [State.INIT, State.INTRO, State.QUALIFY, State.PITCH, State.CLOSE, State.END]
events = st.one_of(
    st.sampled_from(list(Intent)).map(Heard),
    st.builds(
        Heard,
        st.sampled_from(list(Intent)),
        st.sampled_from(list(Act)),
        st.frozensets(st.integers(0, LIMITS.questions - 1)),
        st.booleans(),
        st.booleans(),
    ),
    st.sampled_from([1.0, 4.0, 5.0]).map(Silence),
)


def run(events_: list[Event], limits: Limits) -> list[Decision]:
    progress, decisions = Progress(), []
    for event in [Answered(), *events_]:
        if progress.state is State.END:
            break
        decision = step(progress, event, limits)
        decisions.append(decision)
        progress = decision.progress
    return decisions


@settings(max_examples=400)
@given(st.lists(events, max_size=80), st.booleans())
def test_any_caller_reaches_end_within_the_turn_limit(events_: list[Event], handoff: bool) -> None:
    limits = replace(LIMITS, handoff_available=handoff)
    decisions = run(events_, limits)
    if len(events_) >= limits.max_turns:
        assert decisions[-1].state is State.END
    assert len(decisions) <= limits.max_turns + 1


@settings(max_examples=400)
@given(st.lists(events, max_size=80))
def test_the_funnel_never_skips_a_state(events_: list[Event]) -> None:
    previous = State.INIT
    for event, decision in zip([Answered(), *events_], run(events_, LIMITS), strict=False):
        now = decision.state
        allowed = [previous, ORDER[ORDER.index(previous) + 1], State.END]
        # QUALIFY is skipped only when the caller already answered everything it asks.
        answered_all = isinstance(event, Heard) and len(event.answered) == LIMITS.questions
        if previous is State.INTRO and answered_all:
            allowed = [previous, State.PITCH, State.END]
        assert now in allowed
        if decision.then is not Then.LISTEN:
            assert now is State.END
        previous = now


@settings(max_examples=300)
@given(st.lists(st.sampled_from([I.INTERESTED, I.NOT_INTERESTED, I.UNCLEAR]), max_size=80))
def test_funnel_intents_alone_end_without_needing_the_turn_limit(intents: list[Intent]) -> None:
    # Re-asks and objections are bounded per state, so no turn cap is needed for these.
    bound = 1 + (LIMITS.max_reasks + 1) * (2 + 2 * LIMITS.questions) + 2 * LIMITS.max_objections
    limits = replace(LIMITS, max_turns=10_000)
    decisions = run([Heard(i) for i in intents], limits)
    if len(intents) >= bound:
        assert decisions[-1].state is State.END
