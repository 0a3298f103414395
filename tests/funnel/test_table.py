"""The transition table: complete, consistent, and documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from voiceagent.funnel.states import EndReason, Intent, State
from voiceagent.funnel.table import LIVE_STATES, TABLE, FunnelTableError, Move, Rule, validate

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_live_state_and_intent_has_a_rule() -> None:
    assert {(s, i) for s in LIVE_STATES for i in Intent} <= TABLE.keys()


def test_end_has_no_exits() -> None:
    assert not [key for key in TABLE if key[0] is State.END]


def test_validate_rejects_a_missing_pair() -> None:
    broken = dict(TABLE)
    del broken[(State.PITCH, Intent.UNCLEAR)]
    with pytest.raises(FunnelTableError, match="no rule"):
        validate(broken)


def test_validate_rejects_an_exit_from_end() -> None:
    broken = dict(TABLE)
    broken[(State.END, Intent.INTERESTED)] = Rule(Move.ADVANCE)
    with pytest.raises(FunnelTableError, match="END has no exits"):
        validate(broken)


def test_validate_rejects_unreachable_states() -> None:
    broken = dict(TABLE)
    for intent in Intent:
        broken[(State.INTRO, intent)] = Rule(Move.END, EndReason.NOT_INTERESTED)
    with pytest.raises(FunnelTableError, match="unreachable"):
        validate(broken)


@pytest.mark.parametrize("intent", [Intent.DO_NOT_CALL, Intent.HUMAN_REQUEST, Intent.AI_QUESTION])
@pytest.mark.parametrize("state", [s for s in LIVE_STATES if s is not State.INIT])
def test_safety_intents_behave_the_same_in_every_state(state: State, intent: Intent) -> None:
    assert TABLE[(state, intent)] == TABLE[(State.INTRO, intent)]


def test_not_interested_in_qualify_ends_the_call_as_the_brief_says() -> None:
    rule = TABLE[(State.QUALIFY, Intent.NOT_INTERESTED)]
    assert (rule.move, rule.end_reason) == (Move.END, EndReason.NOT_INTERESTED)


@pytest.mark.parametrize("name", [s.value for s in State] + [r.value for r in EndReason])
def test_every_state_and_end_reason_is_documented_in_the_readme(name: str) -> None:
    assert f"`{name}`" in README.read_text(encoding="utf-8")


@pytest.mark.parametrize("key", sorted(TABLE, key=str))
def test_every_rule_has_its_reason_written_down(key: tuple[State, Intent]) -> None:
    assert TABLE[key].note
