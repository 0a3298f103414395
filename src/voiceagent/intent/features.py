"""Features of one utterance, the same in training and at run time: pure Python, no sklearn.

The text is normalised (`normalise`), then the homophones a recogniser is known to swap are put
back where the context makes the intended word clear ("take me of your list" -> "off",
"your not a bot" -> "you are not", "put me threw" -> "through"), and numbers are spelled as words.

Two blocks of binary features, each scaled to a fixed length (`WORD_SCALE`, `CHAR_SCALE`) so
that a long utterance weighs no more than a short one:
- words: unigrams, bigrams with start and end marks ("<s> stop", "stop </s>"), the whole
  utterance when it is short ("u:stop it"), and a length bucket;
- characters: 3- to 5-grams inside each word padded with spaces, which survive a misheard or
  misspelled word ("unsubscirbe" still shares most of its n-grams with "unsubscribe").
"""

from __future__ import annotations

import itertools
import math
import re

from voiceagent.intent.normalise import normalise

CHAR_SIZES = (3, 4, 5)
SHORT_UTTERANCE_WORDS = 4
WORD_SCALE = 1.0
CHAR_SCALE = 0.6  # characters back the words up; at full weight they outvote them

# Spellings that only ever mean one word in a caller's reply.
_SAME_WORD = {
    "threw": "through",
    "thru": "through",
    "reel": "real",
    "loose": "lose",
    "hear": "here",
    "write": "right",
    "their": "there",
    "theyre": "there",
    "buy": "by",
    "bye": "by",
    "too": "to",
}
# "of" is "off" after a taking-off verb or its object, before a list or a number.
_OFF_BEFORE = re.compile(
    r"\b(take|taken|get|me|us|number|name|them|it|him|her) of (?=(your|the|this|that|my|our|"
    r"all|any|it)\b)"
)
# "your" is "you are" before what only follows "you are".
_YOU_ARE = re.compile(
    r"\byour (?=(not|a|an|just|kidding|real|human|robot|bot|breaking|cutting|calling|going|"
    r"still|there|right|talking|speaking|a machine|an ai|ai|like|so|being|wasting)\b)"
)
_A_GAIN = re.compile(r"\ba gain\b")
# "two" before what never follows a number is "to": "talk 2 a person", "need two talk".
_TWO_TO = re.compile(
    r"\btwo (?=(a|an|the|me|my|your|you|us|him|her|them|someone|somebody|anyone|anybody|"
    r"talk|speak|be|call|do|get|put|take|stop|remove|know|see|sign|hear|go|have|say|tell)\b)"
)
# Before these, "know" is the verb; elsewhere a recogniser has misheard "no".
_KNOW_BEFORE = frozenset(
    {"i", "you", "we", "they", "not", "do", "did", "does", "to", "lets", "let", "me", "who"}
    | {"dont", "didnt", "doesnt", "ya", "would", "might"}
)
_DIGITS = re.compile(r"[0-9]+")

_UNITS = (
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"),
    *("eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen"),
    *("eighteen", "nineteen"),
)
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
NUMBER_WORDS: dict[str, int] = {word: value for value, word in enumerate(_UNITS)} | {
    word: 10 * value for value, word in enumerate(_TENS) if word
}


def number_words(value: int) -> str:
    """0..999 as words ("forty five", "one hundred twenty"); "many" above."""
    if value < 20:
        return _UNITS[value]
    if value < 100:
        tens, units = divmod(value, 10)
        return _TENS[tens] + ("" if units == 0 else " " + _UNITS[units])
    if value < 1000:
        hundreds, rest = divmod(value, 100)
        return _UNITS[hundreds] + " hundred" + ("" if rest == 0 else " " + number_words(rest))
    return "many"


def canonical(text: str) -> str:
    """The normalised text with known misrecognitions put right and numbers as words."""
    text = normalise(text)
    if not text:
        return text
    text = _DIGITS.sub(lambda match: number_words(int(match.group()[:6])), text)
    text = _A_GAIN.sub("again", text)
    text = _TWO_TO.sub("to ", text)
    text = _OFF_BEFORE.sub(r"\1 off ", text)
    text = _YOU_ARE.sub("you are ", text)
    words = text.split()
    out = []
    for index, word in enumerate(words):
        word = _SAME_WORD.get(word, word)
        if word == "know" and (index == 0 or words[index - 1] not in _KNOW_BEFORE):
            word = "no"
        out.append(word)
    return " ".join(out)


def _length_bucket(count: int) -> str:
    if count <= 3:
        return str(count)
    if count <= 6:
        return "4-6"
    if count <= 12:
        return "7-12"
    return "13+"


def extract(text: str) -> tuple[list[str], list[str]]:
    """(word features, character features) of one utterance, each without repeats."""
    return extract_canonical(canonical(text))


def extract_canonical(text: str) -> tuple[list[str], list[str]]:
    """`extract` of a text already put in `canonical` form."""
    words = text.split()
    word_features: dict[str, None] = {f"n:{_length_bucket(len(words))}": None}
    if not words:
        return list(word_features), []
    if len(words) <= SHORT_UTTERANCE_WORDS:
        word_features["u:" + " ".join(words)] = None
    marked = ["<s>", *words, "</s>"]
    for word in words:
        word_features["w:" + word] = None
    for first, second in itertools.pairwise(marked):
        word_features[f"b:{first} {second}"] = None
    char_features: dict[str, None] = {}
    for word in dict.fromkeys(words):
        padded = f" {word} "
        for size in CHAR_SIZES:
            for start in range(len(padded) - size + 1):
                char_features["c:" + padded[start : start + size]] = None
    return list(word_features), list(char_features)


def block_weight(count: int, scale: float = 1.0) -> float:
    """The value of each present feature in a block of `count` known features: length `scale`."""
    return scale / math.sqrt(count) if count else 0.0
