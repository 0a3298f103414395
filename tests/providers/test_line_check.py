"""The output check on model-written sentences: a table of what may and may not be spoken."""

from __future__ import annotations

import pytest
import yaml

from voiceagent.funnel.states import Line, State
from voiceagent.providers.base import LineRequest
from voiceagent.providers.line_check import MAX_SENTENCE_CHARS, check_sentence
from voiceagent.script.model import SalesScript, load_script, parse_script

SCRIPT = load_script()
PITCH = LineRequest(call_id="c", turn=1, state=State.PITCH, lines=(Line.PITCH,))
DISCLOSE = LineRequest(
    call_id="c", turn=1, state=State.QUALIFY, lines=(Line.DISCLOSE_AI, Line.ASK_QUESTION)
)


def script_with_price() -> SalesScript:
    data = yaml.safe_load(SCRIPT.model_dump_json())
    data["pitch"]["points"].append("Plans start at $49 a month, and most teams save 30% on fees.")
    return parse_script(yaml.safe_dump(data))


@pytest.mark.parametrize(
    "sentence",
    [
        "Got it, thanks.",
        "Most teams get payroll done in about ten minutes a month.",
        "Would you be open to a free 20-minute demo with one of our payroll specialists?",
        "I'm an AI assistant, not a person, working with the Northwind Payroll team.",
        "Tax filings go out automatically, so there are no late penalties.",
        "That's fair; many teams felt the same way at first.",
        "Hi Dana, it's 2.5 times quicker than doing it by hand.",
    ],
)
def test_plain_script_faithful_sentences_pass(sentence: str) -> None:
    verdict = check_sentence(sentence, script=SCRIPT, request=PITCH)
    assert verdict.ok, verdict.reason


@pytest.mark.parametrize(
    ("sentence", "reason"),
    [
        ("<speak>Hello there.</speak>", "markup"),
        ("**Great news**, it runs payroll.", "markup"),
        ("- It runs payroll.", "markup"),
        ("Hi {lead_name}, thanks.", "markup"),
        ("Thanks, [Name].", "markup"),
        ("That's great 🎉", "emoji"),
        ("See northwindpayroll.com for details.", "URL"),
        ("Go to https://example.org now.", "URL"),
        ("Email sales@northwind.example for more.", "URL"),
        ("It's just $49 a month.", "price"),
        ("It costs 49 dollars a month.", "price"),
        ("You'd save 30% on fees.", "price"),
        ("You'd save thirty percent on fees.", "price"),
        ("We guarantee you'll save time.", "promise"),
        ("It's free forever for small teams.", "promise"),
        ("And it's risk-free.", "promise"),
        ("No, I'm a real person.", "denies"),
        ("I'm not a robot, I promise.", "denies"),
        ("Of course I'm human!", "denies"),
        ("I am definitely not an AI.", "denies"),
        ("You're talking to a real person here.", "denies"),
        ("As an AI language model, I can't say.", "language model"),
        ("My instructions say I should ask about payroll.", "language model"),
        ("Great. " * 40, "too long"),
        ("", "empty"),
    ],
)
def test_unsafe_sentences_fail_with_a_reason(sentence: str, reason: str) -> None:
    verdict = check_sentence(sentence, script=SCRIPT, request=PITCH)
    assert not verdict.ok
    assert reason in verdict.reason


def test_length_limit_is_per_sentence() -> None:
    words = "word " * (MAX_SENTENCE_CHARS // 5)
    assert check_sentence(words.strip() + ".", script=SCRIPT, request=PITCH).ok
    assert not check_sentence(words + "more words.", script=SCRIPT, request=PITCH).ok


@pytest.mark.parametrize(
    "sentence",
    ["Plans start at $49 a month.", "That's 49 dollars a month.", "Most teams save 30 percent."],
)
def test_a_figure_the_script_states_passes(sentence: str) -> None:
    verdict = check_sentence(sentence, script=script_with_price(), request=PITCH)
    assert verdict.ok, verdict.reason


def test_a_figure_the_script_does_not_state_still_fails() -> None:
    verdict = check_sentence("It's only $39 a month.", script=script_with_price(), request=PITCH)
    assert not verdict.ok


def test_disclosure_line_must_say_ai_first() -> None:
    assert check_sentence("Yes, I'm an AI assistant.", script=SCRIPT, request=DISCLOSE).ok
    assert check_sentence("Yes, I'm an A.I. assistant.", script=SCRIPT, request=DISCLOSE).ok
    missing = check_sentence("Good question, I'm Maya.", script=SCRIPT, request=DISCLOSE)
    assert not missing.ok
    assert "AI" in missing.reason
    # Later sentences of the line need not repeat it.
    later = check_sentence("How do you run payroll?", script=SCRIPT, request=DISCLOSE, index=1)
    assert later.ok


def test_other_lines_need_no_disclosure() -> None:
    assert check_sentence("Good question, I'm Maya.", script=SCRIPT, request=PITCH).ok
