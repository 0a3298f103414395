"""`step()` with the caller's acts: questions, objections by kind, callbacks, follow-ups, wrong
numbers, hostility, other languages, and remembered answers."""

from __future__ import annotations

from dataclasses import replace

import pytest

from voiceagent.funnel import (
    Act,
    Decision,
    EndReason,
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
from voiceagent.funnel.table import ACT_STATES, ACTS, HANDLED_ACTS, PROMPT, QUESTIONS

LIMITS = Limits(questions=2, max_reasks=2, max_objections=1, silence_timeout=8, max_turns=30)
I = Intent  # noqa: E741


def at(state: State, **fields: object) -> Progress:
    return replace(Progress(state=state, turns=1), **fields)  # type: ignore[arg-type]


def hear(progress: Progress, intent: Intent, act: Act = Act.NONE, **facts: object) -> Decision:
    return step(progress, Heard(intent, act, **facts), LIMITS)  # type: ignore[arg-type]


def test_every_act_has_a_rule_in_every_state_after_init() -> None:
    assert {(s, a) for s in ACT_STATES for a in HANDLED_ACTS} <= ACTS.keys()


@pytest.mark.parametrize("state", ACT_STATES)
@pytest.mark.parametrize("topic", QUESTIONS)
def test_a_question_is_answered_and_the_pending_question_asked_again(
    state: State, topic: Act
) -> None:
    decision = hear(at(state), I.INTERESTED, topic)
    assert decision.state is state
    assert decision.lines == (Line.ANSWER_QUESTION, PROMPT[state])
    assert decision.act is topic
    assert decision.then is Then.LISTEN


def test_a_price_question_at_close_is_not_a_yes() -> None:
    decision = hear(at(State.CLOSE), I.INTERESTED, Act.QUESTION_PRICE)
    assert (decision.state, decision.outcome) == (State.CLOSE, None)
    assert decision.lines == (Line.ANSWER_QUESTION, Line.ASK_CLOSE)


def test_a_question_that_also_answers_moves_qualify_on() -> None:
    decision = hear(at(State.QUALIFY), I.INTERESTED, Act.QUESTION_PRICE, answered=frozenset({0}))
    assert decision.lines == (Line.ANSWER_QUESTION, Line.ASK_QUESTION)
    assert decision.progress.question == 1


@pytest.mark.parametrize("state", [State.INTRO, State.QUALIFY, State.PITCH])
@pytest.mark.parametrize(
    "kind",
    [Act.OBJECTION_HAS_PROVIDER, Act.OBJECTION_NO_BUDGET, Act.OBJECTION_NOT_DECISION_MAKER],
)
def test_an_objection_is_answered_once_per_state_then_a_second_no_ends(
    state: State, kind: Act
) -> None:
    first = hear(at(state), I.NOT_INTERESTED, kind)
    assert (first.state, first.lines) == (state, (Line.HANDLE_OBJECTION, PROMPT[state]))
    assert first.act is kind
    second = hear(first.progress, I.NOT_INTERESTED, kind)
    assert (second.state, second.end_reason) == (State.END, EndReason.NOT_INTERESTED)


def test_has_provider_in_qualify_does_not_end_the_call() -> None:
    decision = hear(at(State.QUALIFY), I.NOT_INTERESTED, Act.OBJECTION_HAS_PROVIDER)
    assert decision.state is State.QUALIFY
    assert decision.lines[0] is Line.HANDLE_OBJECTION


def test_a_plain_no_in_qualify_still_ends_at_once() -> None:
    decision = hear(at(State.QUALIFY), I.NOT_INTERESTED, Act.ANSWER)
    assert (decision.state, decision.end_reason) == (State.END, EndReason.NOT_INTERESTED)


def test_an_objection_at_close_then_a_no_is_declined() -> None:
    first = hear(at(State.CLOSE), I.NOT_INTERESTED, Act.OBJECTION_NO_BUDGET)
    assert first.lines == (Line.HANDLE_OBJECTION, Line.ASK_CLOSE)
    second = hear(first.progress, I.NOT_INTERESTED, Act.ANSWER)
    assert (second.end_reason, second.outcome) == (EndReason.COMPLETED, Outcome.DECLINED)


@pytest.mark.parametrize("state", ACT_STATES)
def test_call_me_later_with_a_time_confirms_it_and_ends_as_a_callback(state: State) -> None:
    decision = hear(at(state), I.NOT_INTERESTED, Act.OBJECTION_CALL_LATER, time_heard=True)
    assert decision.lines == (Line.CONFIRM_CALLBACK, Line.GOODBYE)
    assert (decision.end_reason, decision.outcome) == (
        EndReason.CALLBACK_REQUESTED,
        Outcome.CALLBACK,
    )
    assert decision.then is Then.HANG_UP


def test_call_me_later_without_a_time_asks_once_then_ends_either_way() -> None:
    asked = hear(at(State.INTRO), I.NOT_INTERESTED, Act.OBJECTION_CALL_LATER)
    assert (asked.state, asked.lines) == (State.INTRO, (Line.ASK_CALLBACK_TIME,))
    told = hear(asked.progress, I.UNCLEAR, Act.ANSWER, time_heard=True)
    assert told.lines == (Line.CONFIRM_CALLBACK, Line.GOODBYE)
    assert told.outcome is Outcome.CALLBACK
    vague = hear(asked.progress, I.UNCLEAR, Act.NONE)
    assert (vague.lines, vague.outcome) == ((Line.GOODBYE,), Outcome.CALLBACK)


def test_silence_while_a_time_is_awaited_asks_for_the_time_again() -> None:
    asked = hear(at(State.INTRO), I.NOT_INTERESTED, Act.OBJECTION_CALL_LATER)
    quiet = step(asked.progress, Silence(4), LIMITS)
    assert quiet.lines == (Line.CHECK_PRESENCE, Line.ASK_CALLBACK_TIME)
    told = hear(quiet.progress, I.UNCLEAR, Act.ANSWER, time_heard=True)
    assert told.outcome is Outcome.CALLBACK


def test_a_safety_request_wins_over_a_pending_callback_question() -> None:
    asked = hear(at(State.INTRO), I.NOT_INTERESTED, Act.OBJECTION_CALL_LATER)
    decision = hear(asked.progress, I.DO_NOT_CALL)
    assert decision.end_reason is EndReason.CALLER_DNC


@pytest.mark.parametrize("state", ACT_STATES)
def test_email_me_confirms_the_known_address_and_is_a_follow_up(state: State) -> None:
    decision = hear(at(state), I.NOT_INTERESTED, Act.OBJECTION_SEND_EMAIL, email_known=True)
    assert decision.lines == (Line.CONFIRM_EMAIL, Line.GOODBYE)
    assert (decision.end_reason, decision.outcome) == (EndReason.COMPLETED, Outcome.FOLLOW_UP)


def test_email_me_with_no_address_asks_for_one() -> None:
    asked = hear(at(State.CLOSE), I.NOT_INTERESTED, Act.OBJECTION_SEND_EMAIL)
    assert asked.lines == (Line.ASK_EMAIL,)
    given = hear(asked.progress, I.UNCLEAR, Act.ANSWER, email_known=True)
    assert (given.lines, given.outcome) == ((Line.CONFIRM_EMAIL, Line.GOODBYE), Outcome.FOLLOW_UP)


@pytest.mark.parametrize("state", ACT_STATES)
def test_a_wrong_number_apologises_ends_and_blocks(state: State) -> None:
    decision = hear(at(state), I.NOT_INTERESTED, Act.WRONG_NUMBER)
    assert (decision.end_reason, decision.block_number) == (EndReason.WRONG_NUMBER, True)
    assert decision.lines == (Line.GOODBYE,)


def test_hostility_gets_one_calm_line_then_a_polite_end() -> None:
    decision = hear(at(State.PITCH), I.NOT_INTERESTED, Act.HOSTILE)
    assert decision.lines == (Line.CALM,)
    assert (decision.end_reason, decision.block_number) == (EndReason.NOT_INTERESTED, False)


def test_another_language_gets_one_line_in_it_and_ends() -> None:
    decision = hear(at(State.INTRO), I.UNCLEAR, Act.OTHER_LANGUAGE)
    assert (decision.lines, decision.end_reason) == (
        (Line.OTHER_LANGUAGE,),
        EndReason.OTHER_LANGUAGE,
    )


def test_do_not_call_wins_over_a_wrong_number() -> None:
    decision = hear(at(State.INTRO), I.DO_NOT_CALL, Act.WRONG_NUMBER)
    assert decision.end_reason is EndReason.CALLER_DNC


def test_an_answered_question_is_never_asked() -> None:
    # "We're like 40 people, mostly on spreadsheets" answers both questions at once.
    decision = hear(at(State.QUALIFY), I.INTERESTED, Act.ANSWER, answered=frozenset({0, 1}))
    assert (decision.state, decision.lines) == (State.PITCH, (Line.PITCH, Line.ASK_INTEREST))


def test_an_answer_read_as_unclear_still_moves_on() -> None:
    # "sixty" answers "how many people?" though no funnel cue is in it.
    decision = hear(at(State.QUALIFY, question=1), I.UNCLEAR, Act.NONE, answered=frozenset({1}))
    assert decision.state is State.PITCH


def test_an_answer_read_as_a_doubtful_no_still_moves_on() -> None:
    answered = frozenset({0})
    doubtful = hear(
        at(State.QUALIFY), I.NOT_INTERESTED, Act.ANSWER, answered=answered, doubtful=True
    )
    assert (doubtful.state, doubtful.progress.question) == (State.QUALIFY, 1)
    firm = hear(at(State.QUALIFY), I.NOT_INTERESTED, Act.ANSWER, answered=answered)
    assert (firm.state, firm.end_reason) == (State.END, EndReason.NOT_INTERESTED)


def test_intro_skips_to_the_first_unanswered_question() -> None:
    decision = hear(at(State.INTRO), I.INTERESTED, Act.ANSWER, answered=frozenset({0}))
    assert (decision.state, decision.progress.question) == (State.QUALIFY, 1)


def test_a_yes_with_a_time_hears_the_time_said_back() -> None:
    decision = hear(at(State.CLOSE), I.INTERESTED, Act.ANSWER, time_heard=True)
    assert (decision.lines, decision.outcome) == (
        (Line.CONFIRM_MEETING, Line.GOODBYE),
        Outcome.CONVERTED,
    )


def test_only_a_clear_yes_converts_at_close() -> None:
    yes = hear(at(State.CLOSE), I.INTERESTED, Act.ANSWER)
    assert yes.outcome is Outcome.CONVERTED
    for act in (Act.QUESTION_PRICE, Act.OBJECTION_SEND_EMAIL, Act.OBJECTION_CALL_LATER):
        assert hear(at(State.CLOSE), I.INTERESTED, act).outcome is not Outcome.CONVERTED
