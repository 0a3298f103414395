"""The local intent classifier: a learned model plus high-precision safety rules, no network.

It always runs first and alone decides the safety intents (do-not-call, human request, "are you
an AI?"), so those never wait on or depend on a remote model (SPEC, "Runs with no keys at all").

How one utterance is read:
1. the learned model (`learned`, trained from `corpus/intent` by `voiceagent intent train`)
   gives an intent, with the safety intents taken recall-first at their dev-set thresholds, and
   an act;
2. the safety rules (`safety_rules`) run on the text as `features.canonical` puts it
   (normalised, known misrecognitions such as "take me of your list" put right); a rule that
   matches, un-negated, may add a safety intent but never removes one: the label is the highest
   of the model's and the rules' by `INTENT_PRECEDENCE`;
3. the act stays the model's, except after a rule that matched the whole turn ("stop",
   "operator please"): a safety request with nothing more has no other act.
"""

from __future__ import annotations

from dataclasses import dataclass

from voiceagent.funnel.states import Act, Intent
from voiceagent.intent import learned, rules, safety_rules
from voiceagent.intent.features import canonical
from voiceagent.intent.precedence import highest
from voiceagent.intent.rules import Rule
from voiceagent.intent.types import Classification

# How far back a negator may sit from its cue, counting only scope-carrying words between.
_NEGATION_REACH = 5
_NEGATION_WINDOW_CHARS = 120
# Rules that match only when the request is all the caller said.
_WHOLE_TURN_RULES = frozenset({"bare_stop", "bare_request"})
SAFETY_RULES: tuple[tuple[Rule, ...], ...] = (
    safety_rules.DO_NOT_CALL,
    safety_rules.HUMAN_REQUEST,
    safety_rules.AI_QUESTION,
)


@dataclass(frozen=True, slots=True)
class _Hit:
    rule: Rule
    start: int


def _negated(text: str, start: int) -> bool:
    """True when a negator governs the words starting at `start`."""
    # Only the last few words matter; slicing keeps a very long transcript linear to read.
    before = text[max(0, start - _NEGATION_WINDOW_CHARS) : start].split()
    for index in range(len(before) - 1, max(-1, len(before) - 1 - _NEGATION_REACH), -1):
        word = before[index]
        if word in rules.NEGATORS:
            return True
        # "no" negates only as "no need to ...": elsewhere it is an answer ("no, i want a person").
        if word == "no" and index + 1 < len(before) and before[index + 1] == "need":
            return True
        if word not in rules.SCOPE_CARRIERS:
            return False
    return False


def safety_hits(words: str) -> list[_Hit]:
    """The safety rules that match the normalised text, negated ones left out."""
    found = []
    for family in SAFETY_RULES:
        for rule in family:
            for match in rule.pattern.finditer(words):
                if not (rule.negatable and _negated(words, match.start())):
                    found.append(_Hit(rule, match.start()))
    return found


class LocalClassifier:
    """The learned model with the safety rules as an override; shares safely between calls."""

    def __init__(self, model: learned.Model | None = None) -> None:
        # Loaded at construction (start-up), once per process for the shipped artefact.
        self._model = model or learned.shipped()

    def classify(self, text: str) -> Classification:
        words = canonical(text)
        if not words:
            return Classification(Intent.UNCLEAR, "empty")
        prediction = self._model.predict_canonical(words)
        scores = self._model.scores(prediction)

        hits = safety_hits(words)
        ruled = highest(hit.rule.intent for hit in hits)
        intent = highest([prediction.intent] + ([ruled] if ruled else []))
        assert intent is not None  # the model's intent is always there
        if ruled is None or intent is not ruled or intent is prediction.intent:
            return Classification(intent, "model", prediction.act, scores)
        rule = next(hit.rule for hit in hits if hit.rule.intent is ruled)
        act = Act.NONE if rule.name in _WHOLE_TURN_RULES else prediction.act
        return Classification(intent, rule.name, act, scores)
