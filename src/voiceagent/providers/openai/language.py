"""The agent's lines written by any OpenAI-compatible chat model, streamed sentence by sentence.

Each sentence is handed on the moment it is complete, so speech synthesis can start on the first
while the model still writes the second. A phone line is one or two sentences: after two the
stream is closed, which also stops the server generating (and billing) the rest.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncGenerator, AsyncIterator

import openai
from openai import AsyncOpenAI

from voiceagent.errors import LanguageError
from voiceagent.observability import get_logger
from voiceagent.providers.base import LineRequest
from voiceagent.providers.openai.errors import translate
from voiceagent.providers.openai.prompts import line_prompt
from voiceagent.script.model import SalesScript

DEFAULT_BASE_URL = "https://api.openai.com/v1"
MAX_SENTENCES = 2

# Words whose full stop does not end a sentence. Single letters ("J. Smith") are handled apart.
_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "e.g", "i.e", "a.m", "p.m", "u.s"}
)
# A stop, then any closing quotes or brackets, then the space that proves the sentence is over.
_END = re.compile("[.!?]+[\"')\\]\u2019\u201d]*(?=\\s)")
_LAST_WORD = re.compile(r"([A-Za-z][A-Za-z.]*)\.$")


class SentenceSplitter:
    """Cuts streamed text into complete sentences as soon as each one is known to be over.

    A stop counts only once the next character (a space) has arrived: "2." may become "2.5",
    and "Mr." is followed by a name, so neither ends a sentence.
    """

    def __init__(self) -> None:
        self._buffer = ""

    def feed(self, text: str) -> list[str]:
        self._buffer += text
        sentences: list[str] = []
        start = 0
        for match in _END.finditer(self._buffer):
            candidate = self._buffer[start : match.end()].strip()
            if match.group().startswith(".") and _is_abbreviation(candidate):
                continue
            if candidate:
                sentences.append(candidate)
            start = match.end()
        self._buffer = self._buffer[start:]
        return sentences

    def flush(self) -> str:
        """What is left once the stream has ended: the last sentence, whatever its ending."""
        rest, self._buffer = self._buffer.strip(), ""
        return rest


def _is_abbreviation(sentence: str) -> bool:
    match = _LAST_WORD.search(sentence)
    if match is None:
        return False
    word = match.group(1).lower()
    return word in _ABBREVIATIONS or len(word) == 1


class OpenAILanguage:
    """`LanguageModel` over the official SDK; every vendor error becomes a `LanguageError`."""

    def __init__(
        self,
        *,
        api_key: str,
        model: str,
        script: SalesScript,
        base_url: str | None = None,
        deadline_seconds: float = 1.5,
        max_retries: int = 1,
        max_sentences: int = MAX_SENTENCES,
    ) -> None:
        self.model = model
        self.script = script
        self.deadline_seconds = deadline_seconds
        self.max_sentences = max_sentences
        # The base URL is passed even when it is the default: the SDK would otherwise read
        # OPENAI_BASE_URL itself, and only `settings` reads the environment.
        client = AsyncOpenAI(api_key=api_key, base_url=base_url or DEFAULT_BASE_URL)
        # The SDK's defaults (600 s, 2 retries, retries on timeouts, Retry-After honoured up to
        # two minutes) are made for batch jobs. On a live turn a retry that cannot finish inside
        # the webhook budget is worse than the scripted fallback, so: the SDK timeout is the
        # line's deadline (it is per read, not total: `stream_line` enforces the total), and one
        # retry, which only a fast failure (a 5xx or reset within milliseconds) leaves room for.
        self._client = client.with_options(timeout=deadline_seconds, max_retries=max_retries)

    async def stream_line(self, request: LineRequest) -> AsyncIterator[str]:
        splitter = SentenceSplitter()
        said = 0
        cut = False
        deltas = self._deltas(request)
        try:
            async for text, finish in deltas:
                cut = finish == "length"
                for sentence in splitter.feed(text):
                    yield sentence
                    said += 1
                    if said >= self.max_sentences:
                        return
        except LanguageError as exc:
            if not said:
                raise
            # Words already spoken cannot be taken back: the line ends where it is.
            get_logger().warning("llm_line_cut", call_id=request.call_id, error=str(exc))
            return
        finally:
            await deltas.aclose()  # closes the HTTP stream: the rest is never generated
        # A reply cut by the token limit ends mid-sentence: better unsaid than half said.
        tail = splitter.flush() if not cut else ""
        if tail and said < self.max_sentences:
            yield tail
            said += 1
        if not said:
            raise LanguageError("the model returned an empty line")

    async def stream_tokens(self, request: LineRequest) -> AsyncIterator[str]:
        """The model's words exactly as they stream, for a transport that speaks them as they
        come. Raises LanguageError on failure, before or after the first token (the caller
        decides what a cut line means), and when the token limit cut the reply mid-sentence."""
        wrote = False
        deltas = self._deltas(request)
        try:
            async for text, finish in deltas:
                if text:
                    wrote = True
                    yield text
                if finish == "length":
                    raise LanguageError("the reply was cut by the token limit")
        finally:
            await deltas.aclose()
        if not wrote:
            raise LanguageError("the model returned an empty line")

    async def _deltas(self, request: LineRequest) -> AsyncGenerator[tuple[str, str | None]]:
        """(text, finish reason) as the model streams; every failure is a LanguageError."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.deadline_seconds
        prompt = line_prompt(self.script, request)
        try:
            async with asyncio.timeout_at(deadline):
                stream = await self._client.chat.completions.create(
                    model=self.model,
                    messages=[
                        {"role": "system", "content": prompt.system},
                        {"role": "user", "content": prompt.user},
                    ],
                    stream=True,
                )
        except (openai.OpenAIError, TimeoutError, ValueError) as exc:
            raise translate(exc, what="language model", seconds=self.deadline_seconds) from exc
        try:
            while True:
                try:
                    async with asyncio.timeout_at(deadline):
                        chunk = await anext(stream)
                except StopAsyncIteration:
                    return
                except (openai.OpenAIError, TimeoutError, ValueError) as exc:
                    raise translate(
                        exc, what="language model", seconds=self.deadline_seconds
                    ) from exc
                if not chunk.choices:
                    continue
                choice = chunk.choices[0]
                yield choice.delta.content or "", choice.finish_reason
        finally:
            await stream.close()
