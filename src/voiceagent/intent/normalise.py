"""Turn a speech-recogniser transcript into the plain form the intent rules are written against.

Rules match lowercase words separated by single spaces, with contractions expanded ("don't" ->
"do not", "i'm" -> "i am") so that one pattern covers what recognisers spell several ways
("dont", "don't", "do not"). Hesitation fillers are dropped so they never sit between a negator
and the word it negates.
"""

from __future__ import annotations

import re
import unicodedata

# Irregular forms first: the generic "n't" -> " not" rule would turn "can't" into "ca not".
_IRREGULAR_APOSTROPHE = {
    "can't": "can not",
    "cannot": "can not",
    "won't": "will not",
    "ain't": "is not",
    "shan't": "shall not",
    "let's": "let us",
}
_APOSTROPHE_SUFFIXES = (
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"'m\b"), " am"),
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"'ve\b"), " have"),
    (re.compile(r"'ll\b"), " will"),
    (re.compile(r"'d\b"), " would"),
    # "it's" and friends are "is"; any other "'s" is a possessive and is dropped.
    (re.compile(r"\b(it|that|what|who|there|here|he|she|where|how|this)'s\b"), r"\1 is"),
    (re.compile(r"'s\b"), ""),
)

# Recognisers often drop the apostrophe or spell casual speech as heard.
_WORD_REPLACEMENTS = {
    "dont": "do not",
    "doesnt": "does not",
    "didnt": "did not",
    "cant": "can not",
    "isnt": "is not",
    "arent": "are not",
    "wasnt": "was not",
    "wouldnt": "would not",
    "couldnt": "could not",
    "shouldnt": "should not",
    "havent": "have not",
    "im": "i am",
    "youre": "you are",
    "thats": "that is",
    "whats": "what is",
    "whos": "who is",
    "ive": "i have",
    "wanna": "want to",
    "gonna": "going to",
    "gotta": "got to",
    "gimme": "give me",
    "lemme": "let me",
    "kinda": "kind of",
    "sorta": "sort of",
    "u": "you",
    "ur": "your",
    "r": "are",
    "ok": "okay",
    "yea": "yeah",
    "ya": "yeah",
    "mhm": "uhhuh",
    "mmhmm": "uhhuh",
}

# Pure hesitation sounds. "hmm" and "huh" stay: alone they are a reply (a puzzled one).
_FILLERS = frozenset({"uh", "um", "umm", "uhm", "uhh", "er", "erm", "ah", "ahh", "eh"})

_PUNCTUATION = re.compile(r"[^\w\s']+")
_SPACES = re.compile(r"\s+")
# "uh huh" is assent, not two fillers; join it before the fillers are dropped.
_ASSENT = re.compile(r"\b(uh[\s-]?huh|mm[\s-]?hmm|mhm+)\b")
# A recogniser spells "AI" as "a i" or "a.i."; only rewrite it where "a" cannot be the article.
_SPELLED_AI = re.compile(r"\b(an|are you|is this|is it|or) a i\b")


def normalise(text: str) -> str:
    """Lowercase words, single-spaced, contractions expanded, fillers dropped."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    text = text.replace("a.i.", "ai")
    text = _ASSENT.sub(" uhhuh ", text)
    text = _PUNCTUATION.sub(" ", text)
    for word, expansion in _IRREGULAR_APOSTROPHE.items():
        text = re.sub(rf"\b{re.escape(word)}\b", expansion, text)
    for pattern, replacement in _APOSTROPHE_SUFFIXES:
        text = pattern.sub(replacement, text)
    words = [_WORD_REPLACEMENTS.get(word, word) for word in text.replace("'", " ").split()]
    text = " ".join(word for word in words if word not in _FILLERS)
    text = _SPELLED_AI.sub(r"\1 ai", text)
    return _SPACES.sub(" ", text).strip()
