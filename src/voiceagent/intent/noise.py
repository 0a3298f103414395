"""Recogniser noise, made on purpose: what a phone speech recogniser does to a clean line.

Every transformation is a small pure function (given the same random source it does the same
thing), and `noisy` chains them at random. Training adds a few `variants` of each corpus line
(`augment`) and lines said together (`compose`); the bench scores held-out lines passed through
with a seed training never uses.

The transformations never cut a word that carries the label: truncation only drops courtesy
words at the end and discourse markers at the start, and only when something is left.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence

from voiceagent.funnel.states import SAFETY_INTENTS, Act
from voiceagent.intent.corpus import Example
from voiceagent.intent.features import NUMBER_WORDS, number_words

Words = list[str]

# Each word may be heard as any of its alternatives (both directions are listed where a
# recogniser confuses them both ways).
HOMOPHONES: dict[str, tuple[str, ...]] = {
    "off": ("of",),
    "of": ("off",),
    "again": ("a gain",),
    "here": ("hear",),
    "hear": ("here",),
    "through": ("threw", "thru"),
    "threw": ("through",),
    "real": ("reel",),
    "reel": ("real",),
    "lose": ("loose",),
    "loose": ("lose",),
    "your": ("you're", "youre"),
    "you're": ("your",),
    "youre": ("your",),
    "no": ("know",),
    "know": ("no",),
    "to": ("too", "two"),
    "too": ("to", "two"),
    "two": ("to", "too"),
    "there": ("their", "they're"),
    "their": ("there",),
    "four": ("for",),
    "for": ("four",),
    "right": ("write",),
    "write": ("right",),
    "by": ("buy", "bye"),
    "buy": ("by", "bye"),
    "bye": ("by", "buy"),
}

FILLERS = ("uh", "um", "uh", "um", "er", "like", "you know", "i mean", "so", "well")
# Said around a request without changing it: safe to drop at the ends of a line.
TRAILING_COURTESY = frozenset(
    {"please", "thanks", "thank you", "bye", "goodbye", "bye bye", "sir", "maam", "ma'am"}
)
LEADING_MARKERS = frozenset({"well", "so", "look", "listen", "hey", "oh", "uh", "um", "and"})

# How speech runs words together (and how recognisers spell it).
RUN_ONS: dict[tuple[str, ...], str] = {
    ("want", "to"): "wanna",
    ("going", "to"): "gonna",
    ("got", "to"): "gotta",
    ("give", "me"): "gimme",
    ("let", "me"): "lemme",
    ("kind", "of"): "kinda",
    ("sort", "of"): "sorta",
    ("do", "not"): "dont",
    ("i", "am"): "im",
    ("you", "are"): "youre",
    ("what", "is"): "whats",
    ("that", "is"): "thats",
    ("can", "not"): "cant",
    ("did", "not"): "didnt",
}

_PUNCTUATION = re.compile(r"[^\w\s']+")
_SENTENCE_END = re.compile(r"\s*[.?!;]+\s*")


# --- on the whole string --------------------------------------------------------------------


def lowercase(text: str) -> str:
    return text.lower()


def drop_punctuation(text: str) -> str:
    """Recognisers rarely punctuate: sentences run on into one another."""
    return " ".join(_PUNCTUATION.sub(" ", text).split())


def drop_apostrophes(text: str) -> str:
    return text.replace("'", "").replace("\u2019", "")


def run_sentences_together(text: str) -> str:
    return " ".join(_SENTENCE_END.sub(" ", text).split())


# --- on the words ---------------------------------------------------------------------------


def add_filler(words: Words, rng: random.Random) -> Words:
    position = 0 if rng.random() < 0.5 else rng.randrange(len(words) + 1)
    return [*words[:position], *rng.choice(FILLERS).split(), *words[position:]]


def false_start(words: Words, rng: random.Random) -> Words:
    """Start, break off, start again: "can i" -> "can i- can i" -> "can i can i"."""
    if not words:
        return words
    size = rng.randint(1, min(2, len(words)))
    start = list(words[:size])
    if rng.random() < 0.3 and len(start[-1]) > 3:
        start[-1] = start[-1][: rng.randint(1, len(start[-1]) - 2)]
    return start + words


def repeat_word(words: Words, rng: random.Random) -> Words:
    if not words:
        return words
    index = rng.randrange(len(words))
    return [*words[: index + 1], words[index], *words[index + 1 :]]


def swap_homophones(words: Words, rng: random.Random, rate: float = 0.6) -> Words:
    out: Words = []
    for word in words:
        bare = word.lower()
        options = HOMOPHONES.get(bare)
        if options and rng.random() < rate:
            out.extend(rng.choice(options).split())
        else:
            out.append(word)
    return out


def respell_numbers(words: Words, rng: random.Random) -> Words:
    """Digits to words and words to digits ("40" <-> "forty", "forty five" <-> "45")."""
    out: Words = []
    index = 0
    while index < len(words):
        word = words[index]
        bare = word.lower()
        if bare.isascii() and bare.isdigit() and int(bare) < 1000:
            out.extend(number_words(int(bare)).split())
        elif bare in NUMBER_WORDS and rng.random() < 0.8:
            value = NUMBER_WORDS[bare]
            following = words[index + 1].lower() if index + 1 < len(words) else ""
            if value >= 20 and value % 10 == 0 and 0 < NUMBER_WORDS.get(following, 0) < 10:
                value += NUMBER_WORDS[following]
                index += 1
            out.append(str(value))
        else:
            out.append(word)
        index += 1
    return out


def run_on(words: Words, rng: random.Random) -> Words:
    """Run common pairs together as speech does: "want to" -> "wanna", "do not" -> "dont"."""
    out: Words = []
    index = 0
    while index < len(words):
        pair = tuple(word.lower() for word in words[index : index + 2])
        if pair in RUN_ONS and rng.random() < 0.7:
            out.append(RUN_ONS[pair])
            index += 2
        else:
            out.append(words[index])
            index += 1
    return out


def truncate(words: Words, rng: random.Random) -> Words:
    """Cut courtesy words off the end or a discourse marker off the start; never the request."""
    out = list(words)
    if rng.random() < 0.5:
        while len(out) > 1 and out[0].lower() in LEADING_MARKERS:
            out = out[1:]
        return out
    while len(out) > 2 and " ".join(out[-2:]).lower() in TRAILING_COURTESY:
        out = out[:-2]
    while len(out) > 1 and out[-1].lower().strip(".,!?") in TRAILING_COURTESY:
        out = out[:-1]
    return out


# (transformation, probability it is applied to one variant)
_WORD_STEPS: tuple[tuple[Callable[[Words, random.Random], Words], float], ...] = (
    (truncate, 0.25),
    (swap_homophones, 0.5),
    (respell_numbers, 0.5),
    (run_on, 0.3),
    (repeat_word, 0.15),
    (false_start, 0.12),
    (add_filler, 0.35),
)


def noisy(text: str, rng: random.Random) -> str:
    """One recogniser-like rendering of `text`."""
    if rng.random() < 0.85:
        text = lowercase(text)
    if rng.random() < 0.8:
        text = drop_punctuation(run_sentences_together(text))
    if rng.random() < 0.5:
        text = drop_apostrophes(text)
    words = text.split()
    for step, probability in _WORD_STEPS:
        if words and rng.random() < probability:
            words = step(words, rng)
    return " ".join(words)


def variants(text: str, seed: int, n: int) -> list[str]:
    """`n` noisy renderings of `text`; the same (text, seed, n) always gives the same list."""
    # A string seed is hashed with sha512 by `random`, so this is stable across processes.
    rng = random.Random(f"{seed}\0{text}")
    return [noisy(text, rng) for _ in range(n)]


# --- whole training rows ---------------------------------------------------------------------


def augment(examples: Sequence[Example], *, seed: int, n: int) -> list[tuple[str, Example]]:
    """Each line as written, then its `n` noise variants."""
    rows = []
    for example in examples:
        rows.append((example.text, example))
        rows.extend((variant, example) for variant in variants(example.text, seed, n))
    return rows


# When a turn holds several acts, the one the agent must deal with first (corpus header).
_ACT_ORDER = (
    ("wrong_number",),
    ("hostile",),
    ("other_language",),
    ("question",),
    ("objection",),
    ("answer",),
)


def _first_act(acts: Sequence[Act]) -> Act:
    for kinds in _ACT_ORDER:
        for act in acts:
            if act.kind in kinds:
                return act
    return Act.NONE


def compose(examples: Sequence[Example], *, seed: int) -> list[Example]:
    """Each safety line said together with a random other line, before or after it.

    A safety intent anywhere in the turn decides the label; these teach the model that a
    price question or a "no thanks" beside an opt-out does not outweigh it.
    """
    rng = random.Random(seed)
    partners = [
        e for e in examples if e.intent not in SAFETY_INTENTS and e.act is not Act.OTHER_LANGUAGE
    ]
    composed = []
    for example in examples:
        if example.intent not in SAFETY_INTENTS or not partners:
            continue
        partner = rng.choice(partners)
        pair = (example, partner) if rng.random() < 0.5 else (partner, example)
        composed.append(
            Example(
                text=" ".join(e.text for e in pair),
                intent=example.intent,
                act=_first_act([example.act, partner.act]),
                source=f"{example.source}+{partner.source}",
            )
        )
    return composed
