"""Pull single facts (a headcount, a choice, an email address) out of one caller utterance.

The funnel asks qualifying questions ("how many people are on your team?", "what do you use for
payroll today?") and the answer comes back through a phone speech recogniser: lowercase, no
punctuation, numbers as words or digits, spacing that splits product names ("quick books"). An
LLM round trip per turn is too slow and too costly for facts this small, so these are plain
functions over tokens: pure, deterministic, and fast enough to run on every live turn.

Counts are careful about numbers that are not headcounts (years, times, money, durations): a
number only counts next to a headcount word unless the agent has just asked for a number.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "Count",
    "extract_choice",
    "extract_count",
    "extract_email",
    "number_words",
    "spoken_count",
]


@dataclass(frozen=True)
class Count:
    """A number the caller said: `value` is the best single guess, `low`..`high` the range."""

    value: int
    low: int
    high: int
    approximate: bool
    heard: str


# --- tokens -------------------------------------------------------------------------------------

# Digits keep their grouping commas, decimals and clock colons; a "$", "%" or "-" is its own token.
_TOKEN = re.compile(r"\d[\d,]*(?:[.:]\d+)?|[a-z]+|[$%\-]")
_JOINED_SPELLINGS = (
    (re.compile(r"\b([ap])\s*\.?\s*m\b\.?"), r" \1m "),  # "p.m.", "p m" -> "pm"
    (re.compile(r"\bo\s*'?\s*clock\b"), " oclock "),
    (re.compile(r"(?<=\d)(?=[a-z])"), " "),  # "40ish", "3pm", "5k" -> "40 ish", "3 pm", "5 k"
    (re.compile(r"(?<=[a-z])-(?=[a-z])"), " "),  # "forty-five" -> "forty five"
)


def _tokens(text: str) -> list[str]:
    """Lowercase word and number tokens; apostrophes vanish so "don't" is "dont"."""
    text = unicodedata.normalize("NFKC", text).lower().replace("\u2019", "'").replace("'", "")
    for pattern, replacement in _JOINED_SPELLINGS:
        text = pattern.sub(replacement, text)
    return _TOKEN.findall(text)


def _words(text: str) -> list[str]:
    return text.split()


# --- words to numbers ---------------------------------------------------------------------------

_SMALL = {
    word: value
    for value, word in enumerate(
        _words(
            "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
            "fifteen sixteen seventeen eighteen nineteen"
        )
    )
}
_TENS = {
    word: 10 * value
    for value, word in enumerate(
        _words("twenty thirty forty fifty sixty seventy eighty ninety"), start=2
    )
}
_TENS["fourty"] = 40  # a common recogniser spelling
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}


@dataclass(frozen=True)
class _Number:
    """A number read off tokens[start:end]; `scale` is its last multiplier (for "2 to 300")."""

    value: int
    start: int
    end: int
    scale: int = 1
    fuzzy: bool = False  # "a couple": a number, but a loose one


def _read_digits(tokens: Sequence[str], i: int) -> _Number | None:
    token = tokens[i]
    if not token[0].isdigit() or "." in token or ":" in token:
        return None
    digits = token.replace(",", "")
    if len(digits) > 9:  # a phone or account number, not a quantity
        return None
    value, end, scale = int(digits), i + 1, 1
    if end < len(tokens) and tokens[end] in _SCALES:
        scale = _SCALES[tokens[end]]
        value, end = value * scale, end + 1
    elif end < len(tokens) and tokens[end] == "dozen":
        value, end, scale = value * 12, end + 1, 12
    return _Number(value, i, end, scale)


# Which kind of word may follow which: "forty five" yes, "five forty" no (that is two numbers).
_FOLLOWS = {
    "unit": ("", "hundred", "thousand", "and"),
    "teen": ("", "hundred", "thousand", "and"),
    "tens": ("", "hundred", "thousand", "and"),
    "tens_unit": ("tens",),
    "hundred": ("a", "unit", "teen", "tens_unit", "couple"),
    "thousand": ("a", "unit", "teen", "tens", "tens_unit", "hundred", "couple"),
    "dozen": ("a", "unit", "teen", "couple"),
    "couple": ("", "a"),
}


def _word_kind(word: str, last: str) -> str | None:
    if word in _SMALL:
        value = _SMALL[word]
        if 0 < value < 10:
            return "tens_unit" if last == "tens" else "unit"
        return "teen"
    if word in _TENS:
        return "tens"
    if word in _SCALES:
        return "hundred" if word == "hundred" else "thousand"
    if word in ("dozen", "couple"):
        return word
    return None


def _read_words(tokens: Sequence[str], i: int) -> _Number | None:
    """Longest well-formed number phrase at tokens[i] ("a hundred and twenty", "twelve hundred")."""
    if tokens[i] == "half" and tokens[i + 1 : i + 3] == ["a", "dozen"]:
        return _Number(6, i, i + 3, 12)
    total, current, scale, last, end = 0, 0, 1, "", i
    if tokens[i] in ("a", "an"):
        current, last, end = 1, "a", i + 1
    while end < len(tokens):
        word = tokens[end]
        kind = _word_kind(word, last)
        if word == "and" and last in ("hundred", "thousand"):
            following = tokens[end + 1] if end + 1 < len(tokens) else ""
            if _word_kind(following, "and") in ("unit", "teen", "tens"):
                last, end = "and", end + 1
                continue
        if kind is None or last not in _FOLLOWS[kind]:
            break
        if kind in ("unit", "teen", "tens", "tens_unit"):
            current += _SMALL.get(word, 0) + _TENS.get(word, 0)
        elif kind == "couple":
            current = 2
        elif kind == "hundred" and current < 100:
            current, scale = current * 100, 100
        elif kind == "thousand":
            total, current, scale = total + current * _SCALES[word], 0, _SCALES[word]
        elif kind == "dozen":
            current, scale = current * 12, 12
        else:
            break
        last, end = kind, end + 1
        if kind == "dozen":
            break
    if last in ("", "a", "and"):
        return None
    fuzzy = "couple" in tokens[i:end]
    return _Number(total + current, i, end, scale, fuzzy)


def _numbers(tokens: Sequence[str]) -> list[_Number]:
    """Every number in the utterance, left to right, each read as long as it goes."""
    found: list[_Number] = []
    i = 0
    while i < len(tokens):
        number = _read_digits(tokens, i) or _read_words(tokens, i)
        if number is None:
            i += 1
            continue
        found.append(number)
        i = number.end
    return found


# --- what a number is not -----------------------------------------------------------------------

_NOT_PEOPLE_AFTER = frozenset(
    _words(
        "dollars dollar bucks k grand cents euros pounds percent % am pm oclock st nd rd th s "
        "years year yrs months month weeks week days day hours hour minutes minute mins seconds "
        "times"
    )
)
_LABEL_BEFORE = frozenset(
    _words("number version level tier plan step page room suite extension ext")
)
_YEAR_BEFORE = frozenset(_words("in since from of until till by back year around before after"))
_DETERMINERS = frozenset(_words("the that this which no every any each another"))


def _next_word(tokens: Sequence[str], end: int) -> str:
    """The word after a number, skipping "of" ("a couple of years")."""
    if end < len(tokens) and tokens[end] == "of" and end + 1 < len(tokens):
        return tokens[end + 1]
    return tokens[end] if end < len(tokens) else ""


def _is_year(tokens: Sequence[str], number: _Number) -> bool:
    word = tokens[number.start]
    if word.isdigit() and len(word) == 4 and 1900 <= number.value <= 2099:
        return number.start > 0 and tokens[number.start - 1] in _YEAR_BEFORE
    return False


def _is_other_quantity(tokens: Sequence[str], number: _Number) -> bool:
    """Money, a time, a duration, a percentage, an ordinal, a year, a label: not a headcount."""
    before = tokens[number.start - 1] if number.start > 0 else ""
    if before == "$" or before in _LABEL_BEFORE:
        return True
    if tokens[number.start : number.end] == ["one"] and before in _DETERMINERS:
        return True  # "the one we use", "no one"
    if _next_word(tokens, number.end) in _NOT_PEOPLE_AFTER:
        return True
    return _is_year(tokens, number)


def _spoken_years(numbers: Sequence[_Number], tokens: Sequence[str]) -> set[int]:
    """Start indices of "nineteen ninety nine" / "twenty nineteen": years said as two numbers."""
    years: set[int] = set()
    for first, second in itertools.pairwise(numbers):
        if first.end != second.start or tokens[first.start] not in ("nineteen", "twenty"):
            continue
        if 10 <= second.value <= 99 and not first.value < second.value <= 2 * first.value:
            years.update((first.start, second.start))
    return years


# --- ranges, hedges, units ----------------------------------------------------------------------

_RANGE_JOINERS = (("to",), ("-",), ("or",), ("through",), ("and",), ("too",), ())


@dataclass(frozen=True)
class _Span:
    """A candidate headcount: low..high over tokens[start:end]."""

    low: int
    high: int
    start: int
    end: int
    approximate: bool


def _join_range(tokens: Sequence[str], first: _Number, second: _Number) -> _Span | None:
    """ "fifty to sixty", "50-60", "two or three", "between 50 and 60", "two to three hundred"."""
    joiner = tuple(tokens[first.end : second.start])
    if joiner not in _RANGE_JOINERS:
        return None
    if joiner == ("and",) and (first.start == 0 or tokens[first.start - 1] != "between"):
        return None
    low, high = first.value, second.value
    if first.scale == 1 and second.scale > 1 and low * second.scale < high:
        low *= second.scale  # "two to three hundred" is 200..300
    if not low < high or (not joiner and high > 2 * low):
        return None
    start = first.start - 1 if joiner == ("and",) else first.start
    return _Span(low, high, start, second.end, True)


def _spans(tokens: Sequence[str]) -> list[_Span]:
    """Numbers that could be headcounts, with ranges joined and other quantities dropped."""
    numbers = _numbers(tokens)
    years = _spoken_years(numbers, tokens)
    numbers = [n for n in numbers if n.start not in years and not _is_other_quantity(tokens, n)]
    spans: list[_Span] = []
    i = 0
    while i < len(numbers):
        joined = _join_range(tokens, numbers[i], numbers[i + 1]) if i + 1 < len(numbers) else None
        if joined is not None:
            spans.append(joined)
            i += 2
            continue
        number = numbers[i]
        spans.append(_Span(number.value, number.value, number.start, number.end, number.fuzzy))
        i += 1
    return spans


_HEDGES_BEFORE: tuple[tuple[str, ...], ...] = (
    ("somewhere", "around"),
    ("something", "like"),
    ("close", "to"),
    ("more", "than"),
    ("less", "than"),
    ("fewer", "than"),
    ("at", "least"),
    ("upwards", "of"),
    ("just", "over"),
    ("just", "under"),
    ("about",),
    ("around",),
    ("like",),
    ("roughly",),
    ("maybe",),
    ("approximately",),
    ("approx",),
    ("probably",),
    ("almost",),
    ("nearly",),
    ("over",),
    ("under",),
    ("round",),
)
_HEDGES_AFTER: tuple[tuple[str, ...], ...] = (
    ("give", "or", "take"),
    ("or", "so"),
    ("or", "more"),
    ("or", "less"),
    ("ish",),
    ("odd",),
    ("plus",),
    ("or", "something"),
)


def _hedged(tokens: Sequence[str], span: _Span) -> _Span:
    """Widen the span over "about ..." / "... or so" and mark it approximate."""
    start, end, approximate = span.start, span.end, span.approximate
    for hedge in _HEDGES_BEFORE:
        if tuple(tokens[start - len(hedge) : start]) == hedge and start >= len(hedge):
            start, approximate = start - len(hedge), True
            break
    if start >= 3 and tuple(tokens[start - 3 : start]) == ("give", "or", "take"):
        start, approximate = start - 3, True
    for hedge in _HEDGES_AFTER:
        if tuple(tokens[end : end + len(hedge)]) == hedge:
            end, approximate = end + len(hedge), True
            break
    return _Span(span.low, span.high, start, end, approximate)


# Words that may sit between a number and its unit: "40 full time people", "a couple of guys".
_BETWEEN_NUMBER_AND_UNIT = frozenset(
    _words("full part time fulltime parttime total of in all other")
)
# Words that may sit between a unit and its number: "staff of 40", "headcount is about 40".
_BETWEEN_UNIT_AND_NUMBER = frozenset(_words("of is are at was were"))
_ALWAYS_UNITS = (("of", "us"), ("of", "them"))


def _unit_phrases(units: Sequence[str]) -> list[tuple[str, ...]]:
    phrases = {tuple(_tokens(unit)) for unit in units}
    return sorted((p for p in phrases if p), key=len, reverse=True) + list(_ALWAYS_UNITS)


def _unit_after(tokens: Sequence[str], end: int, units: Sequence[tuple[str, ...]]) -> int | None:
    """End index of a unit right after the number (modifiers allowed), or None."""
    for skipped in range(3):
        for unit in units:
            if tuple(tokens[end : end + len(unit)]) == unit:
                return end + len(unit)
        if end >= len(tokens) or tokens[end] not in _BETWEEN_NUMBER_AND_UNIT or skipped == 2:
            return None
        end += 1
    return None


def _unit_before(tokens: Sequence[str], start: int, units: Sequence[tuple[str, ...]]) -> int | None:
    """Start index of a unit just before the number ("staff of 40"), or None."""
    if start > 0 and tokens[start - 1] in _BETWEEN_UNIT_AND_NUMBER:
        start -= 1
    for unit in units:
        if unit not in _ALWAYS_UNITS and tuple(tokens[start - len(unit) : start]) == unit:
            return start - len(unit) if start >= len(unit) else None
    return None


_SOLO = (
    ("just", "me"),
    ("only", "me"),
    ("just", "myself"),
    ("only", "myself"),
    ("by", "myself"),
    ("on", "my", "own"),
    ("one", "man", "band"),
    ("one", "man", "show"),
    ("solo", "operation"),
    ("sole", "proprietor"),
)
_ME_AND = (("me", "and"), ("me", "plus"), ("myself", "and"), ("myself", "plus"))
_ME_AND_ONE = frozenset(
    _words("partner wife husband brother sister son daughter cofounder dad mom")
)


def _solo(tokens: Sequence[str]) -> Count | None:
    """ "just me" is one; "me and my partner" is two."""
    for i in range(len(tokens)):
        for phrase in _SOLO:
            if tuple(tokens[i : i + len(phrase)]) == phrase:
                return Count(1, 1, 1, False, " ".join(phrase))
        if tuple(tokens[i : i + 2]) in _ME_AND:
            partner = tokens[i + 2 : i + 5]
            if partner[:1] in (["my"], ["a"]) and partner[1:2] and partner[1] in _ME_AND_ONE:
                return Count(2, 2, 2, False, " ".join(tokens[i : i + 4]))
            if partner[:2] in (["my", "business"], ["a", "business"]) and partner[2:] == [
                "partner"
            ]:
                return Count(2, 2, 2, False, " ".join(tokens[i : i + 5]))
    return None


def _plus_me(tokens: Sequence[str], span: _Span) -> int:
    """1 when the number follows "me and" ("me and two others" is three people), else 0."""
    return 1 if tuple(tokens[span.start - 2 : span.start]) in _ME_AND and span.start >= 2 else 0


def extract_count(text: str, *, units: Sequence[str] = (), expected: bool = False) -> Count | None:
    """How many (people) the caller said, or None.

    With `expected` False (the agent did not just ask for a number) only a number next to one of
    `units` counts, so "I've used it for 3 years" is None but "we're like 40 people" is 40. With
    `expected` True a bare number counts too, though one next to a unit is still preferred. Years,
    times, money and durations never count. Several candidates: the last one wins.
    """
    tokens = _tokens(text)
    phrases = _unit_phrases(units)
    best: tuple[bool, Count] | None = None
    for raw in _spans(tokens):
        span = _hedged(tokens, raw)
        extra = _plus_me(tokens, span)
        unit_end = _unit_after(tokens, span.end, phrases)
        unit_start = _unit_before(tokens, span.start, phrases)
        with_unit = unit_end is not None or unit_start is not None or extra > 0
        # A bare number after a counted one is a correction only when hedged: "we were eight
        # people last year ... so like twelve-ish"; "forty people, three of them part-time" is not.
        outranked = best is not None and best[0] and not with_unit and not span.approximate
        if not (with_unit or expected) or outranked:
            continue
        start = span.start - 2 * extra if unit_start is None else unit_start
        end = unit_end or span.end
        if extra and end < len(tokens) and tokens[end] in ("others", "other", "more"):
            end += 1
        heard = " ".join(tokens[start:end])
        low, high = span.low + extra, span.high + extra
        best = (with_unit, Count((low + high) // 2, low, high, span.approximate, heard))
    if best is not None:
        return best[1]
    return _solo(tokens)


# --- choices ------------------------------------------------------------------------------------

_NEGATORS: tuple[tuple[str, ...], ...] = (
    ("not",),
    ("dont",),
    ("doesnt",),
    ("didnt",),
    ("never",),
    ("stopped",),
    ("quit",),
    ("ditched",),
    ("dropped",),
    ("without",),
    ("except",),
    ("no", "longer"),
    ("instead", "of"),
    ("rather", "than"),
    ("used", "to"),
    ("switched", "from"),
    ("moved", "from"),
    ("moved", "off"),
    ("away", "from"),
    ("got", "rid", "of"),
    ("do", "not"),
    ("no",),
)
# A negator does not reach back past these: "we don't use excel we use gusto".
_CLAUSE_BREAKS = frozenset(_words("but we now so because though although instead just i its"))
_NEGATION_REACH = 4


@dataclass(frozen=True)
class _Mention:
    canonical: str
    start: int
    end: int


def _squash(words: Sequence[str]) -> str:
    return "".join(words)


def _mentions(tokens: Sequence[str], options: Mapping[str, Sequence[str]]) -> list[_Mention]:
    """Every option mention, longest first where they overlap; spacing-tolerant ("quick books")."""
    wanted: dict[str, str] = {}
    for canonical, synonyms in options.items():
        for synonym in (canonical, *synonyms):
            squashed = _squash(_tokens(synonym))
            if squashed:
                wanted.setdefault(squashed, canonical)
    found: list[_Mention] = []
    taken: set[int] = set()
    for width in range(4, 0, -1):
        for start in range(len(tokens) - width + 1):
            if taken.intersection(range(start, start + width)):
                continue
            joined = _squash(tokens[start : start + width])
            match = wanted.get(joined) or wanted.get(joined.removesuffix("s"))
            if match is not None:
                found.append(_Mention(match, start, start + width))
                taken.update(range(start, start + width))
    return sorted(found, key=lambda mention: mention.start)


def _negated(tokens: Sequence[str], start: int, floor: int) -> bool:
    """Whether a negator in tokens[floor:start] governs the word at `start` ("we don't use")."""
    for back in range(1, _NEGATION_REACH + 1):
        if start - back < floor:
            return False
        for negator in _NEGATORS:
            if tuple(tokens[start - back : start - back + len(negator)]) == negator:
                at_opening = start - back == 0 and negator == ("no",) and back > 1
                following = tokens[start - back + 1 : start - back + 2]
                if not at_opening and following not in (["know"], ["sure"]):
                    return True
        if tokens[start - back] in _CLAUSE_BREAKS:
            return False
    return False


def extract_choice(text: str, options: Mapping[str, Sequence[str]]) -> str | None:
    """The canonical name of the option the caller says they use, or None.

    Matching is case-insensitive on whole words and ignores the recogniser's spacing ("quick
    books" matches "quickbooks"). A negated mention ("we don't use excel") does not count; of the
    rest, the last one wins ("we tried excel, now we use gusto").
    """
    tokens = _tokens(text)
    mentions = _mentions(tokens, options)
    floors = [0] + [mention.end for mention in mentions]
    chosen = [
        m
        for m, floor in zip(mentions, floors, strict=False)
        if not _negated(tokens, m.start, floor)
    ]
    return chosen[-1].canonical if chosen else None


# --- email --------------------------------------------------------------------------------------

_EMAIL = re.compile(
    r"^[a-z0-9](?:[a-z0-9._%+-]*[a-z0-9])?@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
    r"(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,}$"
)
_WRITTEN_EMAIL = re.compile(r"[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+")
_SPOKEN_SYMBOLS = {
    "at": "@",
    "dot": ".",
    "period": ".",
    "point": ".",
    "underscore": "_",
    "dash": "-",
    "hyphen": "-",
}
_DIGIT_WORDS = {word: str(value) for word, value in _SMALL.items() if value < 10}
_DIGIT_WORDS["oh"] = "0"
_CONNECTORS = frozenset(".-_")
# Words that may come just before the address; anything else there ("john smith at ...") may
# be part of the name, so the address is too uncertain to return.
_LEAD_INS = frozenset(
    _words(
        "is its it email mail address me sure yeah yes okay ok so send to use try thats reach "
        "um uh just my work personal on"
    )
)
_WEBMAIL = frozenset(_words("gmail yahoo hotmail outlook icloud aol protonmail live msn"))


def _email_words(text: str) -> list[str]:
    lowered = unicodedata.normalize("NFKC", text).lower().replace("\u2019", "'").replace("'", "")
    lowered = re.sub(r"\bat (?:sign|symbol)\b", "at", lowered)
    words = [word.strip(".") or "." for word in re.findall(r"[a-z0-9@._+-]+", lowered)]
    return [_SPOKEN_SYMBOLS.get(word, _DIGIT_WORDS.get(word, word)) for word in words]


def _is_piece(word: str) -> bool:
    return word not in _CONNECTORS and word != "@"


def _local_part(words: Sequence[str], at: int) -> str | None:
    """The spoken local part ending just before words[at], or None when its start is unclear."""
    i = at - 1
    if i < 0 or not _is_piece(words[i]):
        return None
    parts = [words[i]]
    while i > 0:
        previous = words[i - 1]
        if previous in _CONNECTORS and i >= 2 and _is_piece(words[i - 2]):
            parts[:0] = [words[i - 2], previous]
            i -= 2
        elif _is_piece(previous) and len(previous) == 1 and (len(words[i]) == 1 or i == at - 1):
            parts.insert(0, previous)  # spelled letters: "j o smith"
            i -= 1
        else:
            break
    if i > 0 and words[i - 1] not in _LEAD_INS and words[i - 1] != "@":
        return None
    return "".join(parts)


def _domain(words: Sequence[str], at: int) -> str | None:
    """The spoken domain starting at words[at + 1]: "acme dot com", "a c m e dot co dot uk"."""
    i = at + 1
    parts: list[str] = []
    while i < len(words) and _is_piece(words[i]) and len(words[i]) == 1:
        parts.append(words[i])
        i += 1
    if not parts and i < len(words) and _is_piece(words[i]):
        parts.append(words[i])
        i += 1
    while i + 1 < len(words) and words[i] == "." and _is_piece(words[i + 1]):
        parts += [".", words[i + 1]]
        i += 2
    domain = "".join(parts)
    if domain in _WEBMAIL:
        return domain + ".com"
    return domain or None


def extract_email(text: str) -> str | None:
    """An email address the caller wrote or spelled out ("jo dot smith at acme dot com"), or None.

    The spoken form is read around its last "at": the domain after it, the local part before it
    (words joined by "dot"/"underscore"/"dash", or spelled letters). When the words before the
    local part could be part of it ("john smith at ..."), the answer is None rather than a guess.
    """
    lowered = unicodedata.normalize("NFKC", text).lower()
    for written in reversed(_WRITTEN_EMAIL.findall(lowered)):
        candidate: str = written.strip(".")
        if _EMAIL.match(candidate):
            return candidate
    words = _email_words(text)
    for at in reversed([i for i, word in enumerate(words) if word == "@"]):
        local, domain = _local_part(words, at), _domain(words, at)
        if local and domain and _EMAIL.match(f"{local}@{domain}"):
            return f"{local}@{domain}"
    return None


# --- saying a count back ------------------------------------------------------------------------

_TENS_WORDS = {value: word for word, value in _TENS.items() if word != "fourty"}
_SMALL_WORDS = {value: word for word, value in _SMALL.items()}


def _under_hundred(n: int) -> str:
    if n < 20:
        return _SMALL_WORDS[n]
    tens, units = divmod(n, 10)
    return _TENS_WORDS[tens * 10] + (f"-{_SMALL_WORDS[units]}" if units else "")


def _under_thousand(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    head = f"{_SMALL_WORDS[hundreds]} hundred" if hundreds else ""
    tail = _under_hundred(rest) if rest or not hundreds else ""
    return " ".join(part for part in (head, tail) if part)


def number_words(n: int) -> str:
    """English words for a non-negative integer, as said aloud: 1200 is "twelve hundred"."""
    if n < 0:
        return "minus " + number_words(-n)
    if 1100 <= n < 10_000 and n % 1000 >= 100 and (n < 2000 or n % 100 == 0):
        # "twelve hundred", "twelve hundred fifty", "twenty-five hundred"
        hundreds, rest = divmod(n, 100)
        return f"{_under_hundred(hundreds)} hundred" + (f" {_under_hundred(rest)}" if rest else "")
    parts: list[str] = []
    for scale, name in ((1_000_000_000, "billion"), (1_000_000, "million"), (1000, "thousand")):
        if n >= scale:
            parts.append(f"{_under_thousand(n // scale)} {name}")
            n %= scale
    if n or not parts:
        parts.append(_under_thousand(n))
    return " ".join(parts)


def spoken_count(count: Count) -> str:
    """How the agent says a count back: "forty", "about forty", "fifty to sixty"."""
    if count.low != count.high:
        return f"{number_words(count.low)} to {number_words(count.high)}"
    return ("about " if count.approximate else "") + number_words(count.value)
