"""The local intent classifier: figures over the labelled sets, named hard cases, precedence."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from voiceagent.funnel.states import INTENT_PRECEDENCE, SAFETY_INTENTS, Intent
from voiceagent.intent import LocalClassifier
from voiceagent.intent.precedence import highest
from voiceagent.providers.base import Classification, Classifier

HERE = Path(__file__).resolve().parent

# Floors, not perfection: the labelled set was written before the rules, and the rules were
# not bent to fit single sentences, so a few misses are expected and allowed.
ACCURACY_FLOOR = 0.90
HELDOUT_ACCURACY_FLOOR = 0.85
SAFETY_RECALL_FLOOR = 0.95
DNC_PRECISION_FLOOR = 0.95  # a false opt-out loses the lead for good


def _load(name: str) -> list[tuple[str, Intent, str]]:
    raw = yaml.safe_load((HERE / name).read_text(encoding="utf-8"))
    return [
        (text, Intent(intent), kind)
        for intent, kinds in raw.items()
        for kind, texts in kinds.items()
        for text in texts
    ]


LABELLED = _load("labelled.yaml")
HELDOUT = _load("heldout.yaml")


@pytest.fixture(scope="module")
def classifier() -> LocalClassifier:
    return LocalClassifier()


def _intent(classifier: LocalClassifier, text: str) -> Intent:
    return classifier.classify(text).intent


# --- the labelled set -------------------------------------------------------------------------


def test_labelled_set_is_large_balanced_and_free_of_duplicates() -> None:
    counts = Counter(intent for _, intent, _ in LABELLED)
    assert len(LABELLED) >= 330
    assert set(counts) == set(Intent)
    assert min(counts.values()) >= 50
    assert len({text for text, _, _ in LABELLED}) == len(LABELLED)
    assert not ({text for text, _, _ in LABELLED} & {text for text, _, _ in HELDOUT})


@pytest.mark.parametrize(("text", "expected", "kind"), LABELLED, ids=lambda v: str(v)[:40])
def test_each_labelled_utterance_gets_a_named_decision(
    classifier: LocalClassifier, text: str, expected: Intent, kind: str
) -> None:
    # Per item, only the shape is asserted; correctness is asserted in aggregate below.
    result = classifier.classify(text)
    assert isinstance(result.intent, Intent)
    assert result.reason


def test_accuracy_over_labelled_set_meets_floor(classifier: LocalClassifier) -> None:
    right = sum(_intent(classifier, text) is expected for text, expected, _ in LABELLED)
    assert right / len(LABELLED) >= ACCURACY_FLOOR


def test_accuracy_over_heldout_set_meets_floor(classifier: LocalClassifier) -> None:
    right = sum(_intent(classifier, text) is expected for text, expected, _ in HELDOUT)
    assert right / len(HELDOUT) >= HELDOUT_ACCURACY_FLOOR


@pytest.mark.parametrize("intent", sorted(SAFETY_INTENTS))
def test_safety_intent_recall_meets_floor(classifier: LocalClassifier, intent: Intent) -> None:
    items = [text for text, expected, _ in LABELLED + HELDOUT if expected is intent]
    found = sum(_intent(classifier, text) is intent for text in items)
    assert found / len(items) >= SAFETY_RECALL_FLOOR


def test_do_not_call_precision_meets_floor(classifier: LocalClassifier) -> None:
    said = [
        expected
        for text, expected, _ in LABELLED + HELDOUT
        if _intent(classifier, text) is Intent.DO_NOT_CALL
    ]
    assert said.count(Intent.DO_NOT_CALL) / len(said) >= DNC_PRECISION_FLOOR


# --- named hard cases -------------------------------------------------------------------------


def test_not_interested_with_opt_out_is_do_not_call(classifier: LocalClassifier) -> None:
    text = "no i'm not interested and take me off your list"
    assert _intent(classifier, text) is Intent.DO_NOT_CALL


def test_robot_question_then_person_request_is_human_request(classifier: LocalClassifier) -> None:
    assert _intent(classifier, "are you a robot? let me talk to a person") is Intent.HUMAN_REQUEST


def test_bot_question_with_not_interested_is_ai_question(classifier: LocalClassifier) -> None:
    assert _intent(classifier, "is this a bot? not interested") is Intent.AI_QUESTION


def test_person_request_with_opt_out_is_do_not_call(classifier: LocalClassifier) -> None:
    text = "let me talk to a person i want my number removed"
    assert _intent(classifier, text) is Intent.DO_NOT_CALL


@pytest.mark.parametrize(
    "text",
    [
        "call me back next week",
        "can you call me back tomorrow",
        "it's not a good time can you call later",
        "don't call me on this number call my office",
        "no need to call back just email me",
    ],
)
def test_not_now_and_redirects_are_not_opt_outs(classifier: LocalClassifier, text: str) -> None:
    assert _intent(classifier, text) is Intent.NOT_INTERESTED


@pytest.mark.parametrize(
    "text",
    ["don't call me again", "dont call me no more", "please don't call back", "stop calling"],
)
def test_opt_outs_in_recogniser_spellings_are_do_not_call(
    classifier: LocalClassifier, text: str
) -> None:
    assert _intent(classifier, text) is Intent.DO_NOT_CALL


def test_not_minding_the_call_is_interested(classifier: LocalClassifier) -> None:
    assert _intent(classifier, "I don't mind the call") is Intent.INTERESTED


@pytest.mark.parametrize("text", ["no, I don't need a person", "I don't want to talk to anyone"])
def test_declining_a_person_is_not_a_human_request(classifier: LocalClassifier, text: str) -> None:
    assert _intent(classifier, text) is Intent.NOT_INTERESTED


@pytest.mark.parametrize(
    "text", ["are you a real person", "is this a real person", "are you human"]
)
def test_asking_whether_a_person_is_there_is_an_ai_question(
    classifier: LocalClassifier, text: str
) -> None:
    assert _intent(classifier, text) is Intent.AI_QUESTION


@pytest.mark.parametrize(
    "text", ["my manager handles that", "you should talk to someone in marketing"]
)
def test_pointing_at_someone_else_is_an_answer_not_a_request(
    classifier: LocalClassifier, text: str
) -> None:
    assert _intent(classifier, text) is Intent.INTERESTED


@pytest.mark.parametrize(
    "text", ["we use AI in our product", "we're a robotics company", "our chatbot handles support"]
)
def test_talking_about_ai_is_not_asking_about_ai(classifier: LocalClassifier, text: str) -> None:
    assert _intent(classifier, text) is Intent.INTERESTED


def test_are_you_a_real_company_is_not_an_ai_question(classifier: LocalClassifier) -> None:
    assert _intent(classifier, "are you a real company") is Intent.UNCLEAR


@pytest.mark.parametrize(
    "text",
    [
        "not a problem, go on",
        "I'm not sure, tell me more",
        "no, that's fine, continue",
        "why not",
        "I'm not busy",
        "I wouldn't say no",
        "not bad",
        "no doubt",
        "no no go ahead",
    ],
)
def test_negative_words_in_positive_idioms_are_interested(
    classifier: LocalClassifier, text: str
) -> None:
    assert _intent(classifier, text) is Intent.INTERESTED


@pytest.mark.parametrize("text", ["I'm not interested", "yeah no", "yeah no we're all set", "no"])
def test_plain_refusals_are_not_interested(classifier: LocalClassifier, text: str) -> None:
    assert _intent(classifier, text) is Intent.NOT_INTERESTED


def test_never_heard_of_you_is_a_question_not_a_refusal(classifier: LocalClassifier) -> None:
    assert _intent(classifier, "never heard of you, what is it?") is not Intent.NOT_INTERESTED


@pytest.mark.parametrize(
    "text",
    [
        "we have about ten reps",
        "mostly spreadsheets honestly",
        "we use salesforce",
        "tuesday works",
    ],
)
def test_substantive_answers_are_interested(classifier: LocalClassifier, text: str) -> None:
    assert _intent(classifier, text) is Intent.INTERESTED


@pytest.mark.parametrize(
    "text",
    ["how much does it cost", "does it integrate with hubspot", "how long is the trial"],
)
def test_questions_about_the_product_are_interested(classifier: LocalClassifier, text: str) -> None:
    assert _intent(classifier, text) is Intent.INTERESTED


def test_answer_no_with_details_is_interested(classifier: LocalClassifier) -> None:
    text = "no we don't have anything like that right now we do it by hand"
    assert _intent(classifier, text) is Intent.INTERESTED


def test_already_using_and_happy_is_not_interested(classifier: LocalClassifier) -> None:
    text = "we already use salesforce and we're happy with it"
    assert _intent(classifier, text) is Intent.NOT_INTERESTED


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("i'm not interested take me off your list", Intent.DO_NOT_CALL),
        ("i'm not talking to a robot put me through to a human", Intent.HUMAN_REQUEST),
        ("i do not really want to talk to someone", Intent.NOT_INTERESTED),
    ],
)
def test_negation_reaches_only_across_function_words(
    classifier: LocalClassifier, text: str, expected: Intent
) -> None:
    assert _intent(classifier, text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("r u a robot", Intent.AI_QUESTION),
        ("is this an A.I.?", Intent.AI_QUESTION),
        ("gimme a human", Intent.HUMAN_REQUEST),
        ("Uh-huh.", Intent.INTERESTED),
        ("TAKE ME OFF YOUR LIST!!!", Intent.DO_NOT_CALL),
        ("don\u2019t call me again", Intent.DO_NOT_CALL),
    ],
)
def test_recogniser_spellings_and_punctuation(
    classifier: LocalClassifier, text: str, expected: Intent
) -> None:
    assert _intent(classifier, text) is expected


@pytest.mark.parametrize(
    "text",
    ["hello?", "who is this?", "sorry, I didn't catch that", "hang on", "uh", "i don't know"],
)
def test_nothing_usable_is_unclear(classifier: LocalClassifier, text: str) -> None:
    assert _intent(classifier, text) is Intent.UNCLEAR


@pytest.mark.parametrize("text", ["", " ", "\t\n", "...", "?!", "uh um"])
def test_empty_whitespace_and_punctuation_only_are_unclear(
    classifier: LocalClassifier, text: str
) -> None:
    assert classifier.classify(text) == Classification(Intent.UNCLEAR, "empty")


def test_reason_names_the_deciding_rule(classifier: LocalClassifier) -> None:
    assert classifier.classify("take me off your list").reason == "take_off_list"


def test_local_classifier_is_a_classifier() -> None:
    implementation: Classifier = LocalClassifier()
    assert implementation.classify("yes").intent is Intent.INTERESTED


# --- precedence -------------------------------------------------------------------------------


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


# --- robustness -------------------------------------------------------------------------------

_CUE_WORDS = (
    "no not never do don't call me again take off list are you a robot real person talk to "
    "human yes sure interested busy why problem hello what uh um , . ? ! ' a.i."
)
_WORDS = st.sampled_from(_CUE_WORDS.split())


@settings(max_examples=300)
@given(st.text(max_size=2000))
def test_classify_never_raises_on_any_text(text: str) -> None:
    result = LocalClassifier().classify(text)
    assert isinstance(result.intent, Intent)
    assert result.reason


@settings(max_examples=300)
@given(st.lists(_WORDS, max_size=60).map(" ".join))
def test_classify_never_raises_on_cue_word_salad(text: str) -> None:
    assert isinstance(LocalClassifier().classify(text).intent, Intent)


def test_classify_handles_very_long_text(classifier: LocalClassifier) -> None:
    text = "uh well you know " * 5000 + "take me off your list"
    assert _intent(classifier, text) is Intent.DO_NOT_CALL


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("uh let me think we were like eight people", Intent.INTERESTED),
        ("let me think about it", Intent.NOT_INTERESTED),
        ("ill think about it", Intent.NOT_INTERESTED),
        ("we'll have to think it over", Intent.NOT_INTERESTED),
    ],
)
def test_thinking_aloud_before_an_answer_is_not_a_stall(
    classifier: LocalClassifier, text: str, intent: Intent
) -> None:
    assert classifier.classify(text).intent is intent
