"""The local intent classifier: deterministic rules, no network, no model, microseconds a call.

It always runs first and alone decides the safety intents (do-not-call, human request, "are you
an AI?"), so those never wait on or depend on a remote model (SPEC, "Runs with no keys at all").

How one utterance is read:
1. normalise it (lowercase, contractions expanded, fillers dropped);
2. any safety rule that matches, un-negated, wins, by `INTENT_PRECEDENCE`;
3. otherwise idioms such as "not a problem" are read as assent and blanked out, and the funnel
   cues are weighed: the strongest cue wins, and between equals the later one, because callers
   end on their conclusion ("yeah no, we're all set"; "no, that's fine, go on");
4. with only weak cues, a puzzled reply ("hello?", "hang on") is unclear;
5. with no cue at all, a question is unclear and a statement of three words or more is taken as
   an answer to the agent's question, which in a sales call is engagement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from voiceagent.funnel.states import Intent
from voiceagent.intent import funnel_rules, rules, safety_rules
from voiceagent.intent.normalise import normalise
from voiceagent.intent.precedence import highest
from voiceagent.intent.rules import STRONG, Rule
from voiceagent.providers.base import Classification

# How far back a negator may sit from its cue, counting only scope-carrying words between.
_NEGATION_REACH = 5
# A statement this long with no cue is read as an answer; shorter is a mumble.
_MIN_ANSWER_WORDS = 3
_NEGATION_WINDOW_CHARS = 120
_BLANK = "_"


@dataclass(frozen=True, slots=True)
class _Hit:
    rule: Rule
    start: int
    end: int


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


def _hits(text: str, family: tuple[Rule, ...]) -> list[_Hit]:
    found = []
    for rule in family:
        for match in rule.pattern.finditer(text):
            if not (rule.negatable and _negated(text, match.start())):
                found.append(_Hit(rule, match.start(), match.end()))
    return found


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    # Keep offsets stable so hit positions stay comparable across the masked and plain text.
    for start, end in spans:
        text = text[:start] + _BLANK + " " * (end - start - 1) + text[end:]
    return text


class LocalClassifier:
    """Rule-based `Classifier`; safe to share, since it keeps no state between calls."""

    def __init__(self) -> None:
        self._safety = (
            safety_rules.DO_NOT_CALL,
            safety_rules.HUMAN_REQUEST,
            safety_rules.AI_QUESTION,
        )
        self._idioms = funnel_rules.POSITIVE_IDIOMS
        self._neutral: tuple[re.Pattern[str], ...] = funnel_rules.NEUTRAL_IDIOMS
        self._funnel = (
            funnel_rules.NOT_INTERESTED,
            funnel_rules.NOT_INTERESTED_WEAK,
            funnel_rules.INTERESTED,
            funnel_rules.INTERESTED_WEAK,
        )
        self._unclear = funnel_rules.UNCLEAR

    def classify(self, text: str) -> Classification:
        words = normalise(text)
        if not words:
            return Classification(Intent.UNCLEAR, "empty")

        safety = [hit for family in self._safety for hit in _hits(words, family)]
        winner = highest(hit.rule.intent for hit in safety)
        if winner is not None:
            first = next(hit for hit in safety if hit.rule.intent is winner)
            return Classification(winner, first.rule.name)

        idioms = _hits(words, self._idioms)
        spans = [(hit.start, hit.end) for hit in idioms]
        spans += [m.span() for pattern in self._neutral for m in pattern.finditer(words)]
        masked = _blank(words, spans)

        funnel = idioms + [hit for family in self._funnel for hit in _hits(masked, family)]
        strong = [hit for hit in funnel if hit.rule.strength >= STRONG]
        if strong:
            return self._latest(strong)
        unclear = _hits(masked, self._unclear)
        if unclear:
            return Classification(Intent.UNCLEAR, unclear[0].rule.name)
        if funnel:
            return self._latest(funnel)
        # Count what is left after the blanking, so "i do not know" is not read as an answer.
        tokens = [token for token in masked.split() if token != _BLANK]
        if tokens and tokens[0] in rules.QUESTION_OPENERS:
            return Classification(Intent.UNCLEAR, "question_without_cue")
        if len(tokens) >= _MIN_ANSWER_WORDS:
            return Classification(Intent.INTERESTED, "substantive_answer")
        return Classification(Intent.UNCLEAR, "no_cue")

    @staticmethod
    def _latest(hits: list[_Hit]) -> Classification:
        hit = max(hits, key=lambda h: h.start)
        return Classification(hit.rule.intent, hit.rule.name)
