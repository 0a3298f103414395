"""The output check every model-written sentence passes before it is spoken, and the wrapper that
applies it.

A generated sentence is spoken to a stranger, in the company's name, with no human in between, so
the check is strict and local (no second model): plain speakable text, phone length, no price,
percentage or promise the script does not make, never a denial of being an AI, no talk about
being a language model, and a plain "AI" when the caller asked.

`CheckedLanguage` is the `LanguageModel` the service runs with when a model is configured:
- a request with a fixed part (by default: a goodbye, "Transferring you now.", "I can't transfer
  you") is the script's line, without asking the model: those words are exact, compliance-relevant
  and their audio can be cached (`fixed=` widens the set, e.g. to the opening and disclosure);
- a failing FIRST sentence replaces the whole line with the scripted line;
- a failing later sentence cuts the line before it (what was already spoken stands);
- a `LanguageError` passes through untouched: the call service decides what a failure means.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import AsyncIterator, Collection, Iterator
from dataclasses import dataclass

from voiceagent.funnel.states import Line
from voiceagent.observability import get_logger
from voiceagent.providers.base import LanguageModel, LineRequest
from voiceagent.providers.scripted import ScriptedLanguage
from voiceagent.script.model import SalesScript

MAX_SENTENCE_CHARS = 220
FIXED_LINES = frozenset({Line.GOODBYE, Line.TRANSFER, Line.CANNOT_TRANSFER})

_MARKUP = re.compile(r"[<>{}\[\]*#`|\\~^_=]|^\s*(?:[-+•]|\d+[.)])\s")
_URL = re.compile(
    r"https?://|\bwww\.|\S+@\S+\.\w|\b[\w-]+\.(?:com|net|org|io|ai|co|us|biz|info|app|dev)\b", re.I
)
_MONEY = re.compile(
    r"[$€£¥]\s?\d[\d,]*(?:\.\d+)?(?:\s?(?:k|m|bn|million|billion|thousand)\b)?"
    r"|\b\d[\d,]*(?:\.\d+)?\s?(?:dollars?|bucks|euros?|pounds?|usd|eur|gbp|cents?)\b",
    re.I,
)
_PERCENT = re.compile(
    r"\b\d+(?:\.\d+)?\s?(?:%|percent\b|per cent\b)|\b(?:percent|per cent)\b", re.I
)
_PROMISES = (
    "guarantee",
    "free forever",
    "forever free",
    "free for life",
    "lifetime",
    "risk-free",
    "risk free",
    "money back",
    "money-back",
    "no cost",
    "at no charge",
    "free trial",
    "discount",
    "refund",
    "cancel anytime",
    "cancel any time",
)
_SUBJECT = r"\b(?:i'?m|i am|this is|you'?re (?:talking|speaking) (?:to|with))\s+(?:\w+ly\s+)?"
_DENIALS = (
    re.compile(_SUBJECT + r"not\s+(?:an?\s+)?(?:ai|a\.i\.|robot|bot|machine|computer)"),
    re.compile(_SUBJECT + r"(?:an?\s+)?(?:real|actual|live|human)\s+(?:person|human|being|agent)"),
    re.compile(_SUBJECT + r"(?:an?\s+)?(?:human|person)\b"),
    re.compile(r"\bi'?m\s+(?:a\s+)?(?:real|human)\b(?!\s+assistant)"),
)
_META = re.compile(
    r"language model|\bllms?\b|chatgpt|\bgpt\b|gpt-\d|openai|training data|knowledge cutoff"
    r"|system prompt|my (?:instructions|prompt|programming)|the script|as an ai,",
    re.I,
)
_AI = re.compile(r"\bA\.?I\b", re.I)
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    reason: str = "ok"


PASS = Verdict(True)


class LineChecker:
    """Checks sentences against one script; the script's own words are what it may repeat."""

    def __init__(self, script: SalesScript) -> None:
        self.script = script
        self._said = _normalise(" ".join(_strings(script.model_dump())))

    def check(self, sentence: str, request: LineRequest, index: int = 0) -> Verdict:
        """`index` is the sentence's place in the line: the disclosure must come first."""
        text = sentence.strip()
        spoken = text.replace("\u2019", "'").lower()
        if not text:
            return Verdict(False, "empty")
        if len(text) > MAX_SENTENCE_CHARS:
            return Verdict(False, f"too long ({len(text)} > {MAX_SENTENCE_CHARS} characters)")
        if "\n" in text or _MARKUP.search(text):
            return Verdict(False, "markup or formatting")
        if any(unicodedata.category(ch)[0] in "CS" and ch not in "$€£¥" for ch in text):
            return Verdict(False, "emoji or special symbol")
        if _URL.search(text):
            return Verdict(False, "URL or address")
        for found in (*_MONEY.finditer(text), *_PERCENT.finditer(text)):
            if _normalise(found.group()) not in self._said:
                return Verdict(False, f"price or figure not in the script: {found.group()!r}")
        for promise in _PROMISES:
            if promise in spoken and promise not in self._said:
                return Verdict(False, f"promise not in the script: {promise!r}")
        if any(p.search(spoken) for p in _DENIALS):
            return Verdict(False, "denies being an AI")
        if _META.search(text):
            return Verdict(False, "talks about being a language model")
        if index == 0 and Line.DISCLOSE_AI in request.lines and not _AI.search(text):
            return Verdict(False, 'AI disclosure without the word "AI"')
        return PASS


def check_sentence(
    sentence: str, *, script: SalesScript, request: LineRequest, index: int = 0
) -> Verdict:
    """One-off check; build a `LineChecker` once per script where many sentences are checked."""
    return LineChecker(script).check(sentence, request, index)


class CheckedLanguage:
    """Wraps a model so that only checked sentences, or the scripted line, reach the caller."""

    def __init__(
        self,
        model: LanguageModel,
        fallback: ScriptedLanguage,
        *,
        fixed: Collection[Line] = FIXED_LINES,
    ) -> None:
        self.model = model
        self.fallback = fallback
        self.fixed = frozenset(fixed)
        self.checker = LineChecker(fallback.script)

    async def stream_line(self, request: LineRequest) -> AsyncIterator[str]:
        if self.fixed.intersection(request.lines):
            async for sentence in self.fallback.stream_line(request):
                yield sentence
            return
        sentences = self.model.stream_line(request)
        index = 0
        try:
            async for sentence in sentences:
                verdict = self.checker.check(sentence, request, index)
                if not verdict.ok:
                    get_logger().warning(
                        "line_check_failed",
                        call_id=request.call_id,
                        turn=request.turn,
                        sentence_index=index,
                        reason=verdict.reason,
                    )
                    break
                yield sentence
                index += 1
        finally:
            # Closing the model's generator closes its HTTP stream: the rest is never generated.
            aclose = getattr(sentences, "aclose", None)
            if aclose is not None:
                await aclose()
        if index == 0:
            async for scripted in self.fallback.stream_line(request):
                yield scripted

    def speaks_fixed(self, request: LineRequest) -> bool:
        """True when the line is the script's own words (a goodbye, a transfer …)."""
        return bool(self.fixed.intersection(request.lines))

    async def stream_pieces(self, request: LineRequest) -> AsyncIterator[str]:
        """The line in pieces, each said as soon as nothing in it can fail the check.

        Tokens flow through while the sentence so far passes the check; from the first word
        that fails it (a figure, a promise, a denial), the rest of the sentence is held until
        it ends and is checked whole. A failing sentence is never spoken past its last safe
        word: the first one is followed by the script's line, a later one ends the line.
        """
        if self.speaks_fixed(request):
            yield self.fallback.compose(request)
            return
        if not hasattr(self.model, "stream_tokens"):
            async for piece in as_pieces(self.stream_line(request)):
                yield piece
            return
        gate = _Gate(self.checker, request, max_sentences=getattr(self.model, "max_sentences", 2))
        tokens = self.model.stream_tokens(request)
        spoke = False
        try:
            async for token in tokens:
                for piece in gate.feed(token):
                    spoke = True
                    yield piece
                if gate.failed or gate.full:
                    break
            else:
                for piece in gate.close():
                    spoke = True
                    yield piece
        finally:
            aclose = getattr(tokens, "aclose", None)
            if aclose is not None:
                await aclose()
        if gate.failed:
            self._log_failure(request, gate.index, gate.reason)
        if gate.failed and gate.index == 0:
            scripted = self.fallback.compose(request)
            yield (" " + scripted) if spoke else scripted

    def _log_failure(self, request: LineRequest, index: int, reason: str) -> None:
        get_logger().warning(
            "line_check_failed",
            call_id=request.call_id,
            turn=request.turn,
            sentence_index=index,
            reason=reason,
        )


class _Gate:
    """Lets a model's tokens through while what they say cannot fail the check (see above)."""

    _BOUNDARY = re.compile(r"(?<=[.!?])\s+")

    def __init__(self, checker: LineChecker, request: LineRequest, *, max_sentences: int) -> None:
        self.checker = checker
        self.request = request
        self.max_sentences = max_sentences
        self.index = 0  # the sentence being written
        self.sentence = ""  # its text so far
        self.sent = 0  # how much of it was let through
        self.holding = False  # a word in it failed: the rest waits for the sentence's end
        self.failed = False
        self.reason = ""
        self.spoken = False  # anything let through at all (the next piece needs its space)

    @property
    def full(self) -> bool:
        """A phone line is short: past `max_sentences` the rest is not said."""
        return self.index >= self.max_sentences

    def feed(self, token: str) -> list[str]:
        out: list[str] = []
        text = self.sentence + token
        while (found := self._BOUNDARY.search(text, self.sent)) is not None:
            last = self.index + 1 >= self.max_sentences
            gap = "" if last else text[found.start() : found.end()]
            out += self._finish(text[: found.start()], gap)
            if self.failed or self.full:
                return out
            text = text[found.end() :]
        self.sentence = text
        out += self._flow()
        return out

    def close(self) -> list[str]:
        return self._finish(self.sentence, "") if self.sentence.strip() else []

    def _flow(self) -> list[str]:
        """Let through what of the sentence so far cannot fail.

        A word still being written goes out too, unless it may be the start of a word the check
        looks for ("guar…", "rob…"): waiting for the next token would cost every line a token.
        """
        if self.holding:
            return []
        cut = max(self.sentence.rfind(" "), self.sentence.rfind("\n"))
        partial = self.sentence[cut + 1 :]
        if partial and not _may_become_risky(partial):
            cut = len(self.sentence)
        if cut <= self.sent:
            return []
        candidate = self.sentence[:cut]
        last_word = candidate.split()[-1] if candidate.split() else ""
        # A figure is held until the word after it is known ("20" may become "20 percent").
        risky = any(ch.isdigit() or ch in "$€£¥%" for ch in last_word)
        if risky or not self._passes(candidate):
            self.holding = True
            return []
        piece, self.sent = self.sentence[self.sent : cut], cut
        return [piece]

    def _finish(self, sentence: str, gap: str) -> list[str]:
        """The sentence is whole: check it, let the rest of it through, or stop."""
        verdict = self.checker.check(sentence, self.request, self.index)
        if not verdict.ok:
            self.failed, self.reason = True, verdict.reason
            return []
        piece = sentence[self.sent :] + gap
        self.index += 1
        self.sentence, self.sent, self.holding = "", 0, False
        return [piece] if piece else []

    def _passes(self, partial: str) -> bool:
        if self.index == 0 and Line.DISCLOSE_AI in self.request.lines:
            return False  # the disclosure must say "AI": only the whole sentence can tell
        return self.checker.check(partial, self.request, self.index).ok


# Words the check looks for (figures, promises, denials, talk of models): a word being written
# that may still turn into one of these waits for its end.
_WATCHED = frozenset(
    re.findall(
        r"[a-z]+",
        " ".join(_PROMISES)
        + " dollar dollars bucks euro euros pound pounds usd eur gbp cents percent per cent"
        " robot bot machine computer human person being real actual live agent"
        " language model llm llms chatgpt gpt openai training data knowledge cutoff system"
        " prompt instructions programming script ai http https www com net org io co us biz"
        " info app dev",
    )
)


def _may_become_risky(partial: str) -> bool:
    word = partial.lower()
    if not word.isalpha():
        return True  # punctuation, figures, addresses: wait for the word's end
    return any(watched.startswith(word) for watched in _WATCHED)


async def as_pieces(sentences: AsyncIterator[str]) -> AsyncIterator[str]:
    """Sentences as the pieces of one line: joined, they read as the line."""
    first = True
    async for sentence in sentences:
        yield sentence if first else " " + sentence
        first = False


def _normalise(text: str) -> str:
    # "$49", "49 dollars" and "49%", "49 percent" are the same claim however they are written.
    text = _SPACES.sub(" ", text.replace("\u2019", "'").lower())
    text = re.sub(r"(\d[\d,.]*)\s?(?:dollars?|bucks|usd)\b", r"$\1", text)
    text = re.sub(r"(\d[\d,.]*)\s?(?:percent|per cent)\b", r"\1%", text)
    return re.sub(r"([$€£¥])\s+", r"\1", text)


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)
