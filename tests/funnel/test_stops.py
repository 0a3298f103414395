"""Every way a call can stop from outside the conversation is an event `step()` decides."""

from __future__ import annotations

import pytest

from voiceagent.funnel import (
    Cause,
    EndReason,
    Limits,
    Line,
    Progress,
    State,
    Stopped,
    Then,
    TransitionNotAllowed,
    step,
)
from voiceagent.funnel.table import STOPS

LIVE = (State.INIT, State.INTRO, State.QUALIFY, State.PITCH, State.CLOSE)


@pytest.mark.parametrize("state", LIVE)
@pytest.mark.parametrize(
    ("cause", "reason", "lines"),
    [
        (Cause.LANGUAGE_FAILED, EndReason.LLM_ERROR, (Line.GOODBYE,)),
        (Cause.CARRIER_FAILED, EndReason.TELEPHONY_ERROR, (Line.GOODBYE,)),
        (Cause.CALLER_HUNG_UP, EndReason.CALLER_HUNG_UP, ()),
        (Cause.OPERATOR_HUNG_UP, EndReason.OPERATOR_HANGUP, ()),
    ],
)
def test_a_stop_ends_the_call_from_any_live_state(
    state: State, cause: Cause, reason: EndReason, lines: tuple[Line, ...]
) -> None:
    decision = step(Progress(state=state, question=1, turns=3), Stopped(cause), Limits())
    assert decision.state is State.END
    assert decision.end_reason is reason
    assert decision.then is Then.HANG_UP
    assert decision.lines == lines
    assert decision.outcome is None
    assert not decision.block_number


def test_a_stop_after_the_end_is_refused() -> None:
    with pytest.raises(TransitionNotAllowed):
        step(Progress(state=State.END), Stopped(Cause.CALLER_HUNG_UP), Limits())


def test_every_cause_has_its_rule_in_the_table() -> None:
    assert set(STOPS) == set(Cause)
