"""The local intent classifier: behaviour on named hard cases, the rule override, precedence.

Scores belong in `bench/classifier_report.py`; these assert what must hold for each case.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voiceagent.funnel.states import INTENT_PRECEDENCE, SAFETY_INTENTS, Act, Intent
from voiceagent.intent import LocalClassifier, learned
from voiceagent.intent.features import canonical
from voiceagent.intent.local import safety_hits
from voiceagent.intent.precedence import highest
from voiceagent.intent.types import Classification, Classifier
from voiceagent.providers import base


@pytest.fixture(scope="module")
def classifier() -> LocalClassifier:
    return LocalClassifier()


def _intent(classifier: LocalClassifier, text: str) -> Intent:
    return classifier.classify(text).intent


def _rules(text: str) -> set[str]:
    return {hit.rule.name for hit in safety_hits(canonical(text))}


# --- "stop": the opt-out the opening offers -----------------------------------------------------

STOP_FAMILY = ["stop", "Stop.", "stop it", "please stop", "okay stop", "stop stop", "STOP!"]


@pytest.mark.parametrize("text", STOP_FAMILY)
def test_stop_alone_or_with_polite_words_is_do_not_call(
    classifier: LocalClassifier, text: str
) -> None:
    result = classifier.classify(text)
    assert result.intent is Intent.DO_NOT_CALL
    assert result.act is Act.NONE


@pytest.mark.parametrize(
    "text", ["Stop dialing this number.", "stop calling this number", "stop calling me"]
)
def test_stop_dialing_or_calling_is_do_not_call(classifier: LocalClassifier, text: str) -> None:
    assert _intent(classifier, text) is Intent.DO_NOT_CALL


@pytest.mark.parametrize("text", [*STOP_FAMILY, "Stop dialing this number."])
def test_stop_family_is_caught_by_a_rule_whatever_the_model(text: str) -> None:
    assert _rules(text) & {"bare_stop", "stop_calling", "stop_pestering"}


@pytest.mark.parametrize(
    "text", ["hold on, stop, which company is this?", "stop, what's the price?"]
)
def test_stop_meaning_hold_on_before_something_else_is_not_do_not_call(
    classifier: LocalClassifier, text: str
) -> None:
    assert not _rules(text)
    assert _intent(classifier, text) is not Intent.DO_NOT_CALL


# --- safety intents, as asked and as misheard ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("you're not a bot, are you", Intent.AI_QUESTION),
        ("is this a real person", Intent.AI_QUESTION),
        ("are you a reel person", Intent.AI_QUESTION),
        ("r u a robot", Intent.AI_QUESTION),
        ("is there somebody I could actually speak with", Intent.HUMAN_REQUEST),
        ("is there a real person I can talk to", Intent.HUMAN_REQUEST),
        ("put me threw to a manager", Intent.HUMAN_REQUEST),
        ("gimme a human", Intent.HUMAN_REQUEST),
        ("take me of your list", Intent.DO_NOT_CALL),
        ("TAKE ME OFF YOUR LIST!!!", Intent.DO_NOT_CALL),
        ("don\u2019t call me again", Intent.DO_NOT_CALL),
        ("loose my number", Intent.DO_NOT_CALL),
    ],
)
def test_safety_intents_in_their_many_spellings(
    classifier: LocalClassifier, text: str, expected: Intent
) -> None:
    assert _intent(classifier, text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("no i'm not interested and take me off your list", Intent.DO_NOT_CALL),
        ("let me talk to a person i want my number removed", Intent.DO_NOT_CALL),
        ("are you a robot? let me talk to a person", Intent.HUMAN_REQUEST),
        ("is this a bot? not interested", Intent.AI_QUESTION),
    ],
)
def test_a_safety_intent_anywhere_in_the_turn_decides(
    classifier: LocalClassifier, text: str, expected: Intent
) -> None:
    assert _intent(classifier, text) is expected


@pytest.mark.parametrize(
    "text",
    [
        "no, I don't need a manager, what's the price",
        "I don't care if you're a robot, what's the price?",
        "no need to remove me, I'm just busy",
    ],
)
def test_a_waved_off_safety_request_is_not_one(classifier: LocalClassifier, text: str) -> None:
    assert _intent(classifier, text) not in SAFETY_INTENTS


def test_declining_a_manager_to_ask_the_price_is_interested_in_the_price(
    classifier: LocalClassifier,
) -> None:
    result = classifier.classify("no, I don't need a manager, what's the price")
    assert (result.intent, result.act) == (Intent.INTERESTED, Act.QUESTION_PRICE)


@pytest.mark.parametrize(
    "text", ["try me next month", "call me back next week", "I'm driving, call me tomorrow"]
)
def test_deferrals_are_not_interested_not_opt_outs(classifier: LocalClassifier, text: str) -> None:
    assert _intent(classifier, text) is Intent.NOT_INTERESTED


# --- acts ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "act"),
    [
        ("How much does it cost?", Act.QUESTION_PRICE),
        ("tell me more", Act.QUESTION_HOW_IT_WORKS),
        ("who is this?", Act.QUESTION_WHO_IS_CALLING),
        ("is this call being recorded", Act.QUESTION_RECORDED),
        ("we already have a provider", Act.OBJECTION_HAS_PROVIDER),
        ("I'm driving, call me tomorrow", Act.OBJECTION_CALL_LATER),
        ("just email me the info", Act.OBJECTION_SEND_EMAIL),
        ("sorry wrong number", Act.WRONG_NUMBER),
        ("no hablo inglés", Act.OTHER_LANGUAGE),
        ("we're like 40 people, mostly on spreadsheets", Act.ANSWER),
    ],
)
def test_each_turn_gets_its_act(classifier: LocalClassifier, text: str, act: Act) -> None:
    assert classifier.classify(text).act is act


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("sorry wrong number", Intent.NOT_INTERESTED),
        ("no hablo inglés", Intent.UNCLEAR),
        ("How much does it cost?", Intent.INTERESTED),
        ("we already have a provider", Intent.NOT_INTERESTED),
        ("who is this?", Intent.UNCLEAR),
    ],
)
def test_acts_come_with_the_intent_the_header_gives_them(
    classifier: LocalClassifier, text: str, intent: Intent
) -> None:
    assert _intent(classifier, text) is intent


# --- the rule override: adds a safety label, never removes one ---------------------------------


def _constant_model(intent: Intent, act: Act = Act.ANSWER) -> learned.Model:
    """A model with no features that always says `intent` and `act`."""
    intents, acts = tuple(Intent), tuple(Act)
    bias = np.full(len(intents) + len(acts), -10.0, dtype=np.float32)
    bias[intents.index(intent)] = 10.0
    bias[len(intents) + acts.index(act)] = 10.0
    return learned.Model(
        vocabulary=(),
        weights=np.zeros((0, len(bias)), dtype=np.float32),
        bias=bias,
        intents=intents,
        acts=acts,
        thresholds=dict.fromkeys(SAFETY_INTENTS, 0.5),
    )


def test_a_rule_adds_a_safety_label_the_model_missed() -> None:
    result = LocalClassifier(_constant_model(Intent.INTERESTED)).classify("okay stop")
    assert result == Classification(Intent.DO_NOT_CALL, "bare_stop", Act.NONE)


def test_a_rule_keeps_the_models_act_when_the_turn_says_more() -> None:
    classifier = LocalClassifier(_constant_model(Intent.INTERESTED, Act.QUESTION_PRICE))
    result = classifier.classify("what's the price? actually just take me off your list")
    assert (result.intent, result.act) == (Intent.DO_NOT_CALL, Act.QUESTION_PRICE)


def test_a_rule_never_removes_the_models_safety_label() -> None:
    classifier = LocalClassifier(_constant_model(Intent.DO_NOT_CALL))
    assert classifier.classify("are you a robot").intent is Intent.DO_NOT_CALL


def test_among_safety_labels_precedence_decides() -> None:
    classifier = LocalClassifier(_constant_model(Intent.AI_QUESTION))
    assert classifier.classify("put me through to a manager").intent is Intent.HUMAN_REQUEST


def test_with_no_rule_the_model_decides() -> None:
    classifier = LocalClassifier(_constant_model(Intent.UNCLEAR, Act.NONE))
    assert classifier.classify("we use gusto") == Classification(Intent.UNCLEAR, "model")


_CUE_WORDS = (
    "no not never do don't call me again take off of your list are you a robot bot real reel "
    "person talk to human yes sure stop please okay hold on manager price what , . ? ! ' a.i."
)
_SALAD = st.lists(st.sampled_from(_CUE_WORDS.split()), max_size=30).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(_SALAD, st.sampled_from(tuple(Intent)))
def test_the_classifier_never_ranks_below_the_model(text: str, said: Intent) -> None:
    result = LocalClassifier(_constant_model(said)).classify(text)
    if canonical(text):
        assert highest([said, result.intent]) is result.intent


# --- shape and robustness ------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", " ", "\t\n", "...", "?!", "uh um"])
def test_empty_whitespace_and_punctuation_only_are_unclear(
    classifier: LocalClassifier, text: str
) -> None:
    assert classifier.classify(text) == Classification(Intent.UNCLEAR, "empty", Act.NONE)


def test_local_classifier_is_a_classifier_and_providers_re_export_the_types() -> None:
    implementation: Classifier = LocalClassifier()
    assert implementation.classify("yes").intent is Intent.INTERESTED
    assert base.Classification is Classification
    assert base.Classifier is Classifier


def test_scores_name_every_intent_for_the_logs(classifier: LocalClassifier) -> None:
    scores = classifier.classify("how much is it").scores
    assert {intent.value for intent in Intent} <= set(scores)
    assert scores["question:price"] > 0.5


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=2000))
def test_classify_never_raises_on_any_text(text: str) -> None:
    result = LocalClassifier().classify(text)
    assert isinstance(result.intent, Intent)
    assert isinstance(result.act, Act)
    assert result.reason


def test_classify_handles_very_long_text(classifier: LocalClassifier) -> None:
    text = "uh well you know " * 5000 + "take me off your list"
    assert _intent(classifier, text) is Intent.DO_NOT_CALL


# --- precedence -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("intents", "expected"),
    [
        ([Intent.NOT_INTERESTED, Intent.DO_NOT_CALL], Intent.DO_NOT_CALL),
        ([Intent.AI_QUESTION, Intent.HUMAN_REQUEST], Intent.HUMAN_REQUEST),
        ([Intent.NOT_INTERESTED, Intent.AI_QUESTION], Intent.AI_QUESTION),
        ([Intent.HUMAN_REQUEST, Intent.DO_NOT_CALL, Intent.AI_QUESTION], Intent.DO_NOT_CALL),
        ([Intent.UNCLEAR, Intent.INTERESTED], Intent.INTERESTED),
        ([Intent.INTERESTED], Intent.INTERESTED),
    ],
)
def test_highest_follows_intent_precedence(intents: list[Intent], expected: Intent) -> None:
    assert highest(intents) is expected


def test_highest_of_nothing_is_none() -> None:
    assert highest([]) is None


def test_every_safety_intent_outranks_every_funnel_intent() -> None:
    for safety in SAFETY_INTENTS:
        for funnel in set(Intent) - SAFETY_INTENTS:
            assert highest([funnel, safety]) is safety
    assert highest(reversed(INTENT_PRECEDENCE)) is INTENT_PRECEDENCE[0]


@given(st.lists(st.sampled_from(tuple(Intent)), min_size=1))
def test_highest_is_the_earliest_in_precedence(intents: list[Intent]) -> None:
    winner = highest(intents)
    assert winner in intents
    assert INTENT_PRECEDENCE.index(winner) == min(INTENT_PRECEDENCE.index(i) for i in intents)
