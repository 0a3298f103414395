"""OpenAILanguage through the real openai SDK against the wire-protocol emulator on loopback."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import openai
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openai import AsyncOpenAI

from voiceagent.emulators.openai import OpenAIBehaviour, OpenAIEmulator
from voiceagent.errors import LanguageError
from voiceagent.funnel.states import EndReason, Line, Outcome, State
from voiceagent.providers.base import LineRequest, Utterance
from voiceagent.providers.line_check import CheckedLanguage
from voiceagent.providers.openai.language import OpenAILanguage, SentenceSplitter
from voiceagent.providers.scripted import ScriptedLanguage
from voiceagent.script.model import SalesScript, load_script
from voiceagent.web.server import serve_in_background

SCRIPT = load_script()


@dataclass
class Emulated:
    emulator: OpenAIEmulator
    base_url: str

    def language(self, **options: Any) -> OpenAILanguage:
        options.setdefault("script", SCRIPT)
        return OpenAILanguage(
            api_key=self.emulator.api_key,
            model="gpt-4o-mini",
            base_url=f"{self.base_url}/v1",
            **options,
        )

    @property
    def calls(self) -> int:
        return len(self.emulator.chat_requests)


@pytest.fixture
async def openai_server() -> AsyncIterator[Emulated]:
    emulator = OpenAIEmulator()
    async with serve_in_background(lambda base_url: emulator.app) as server:
        yield Emulated(emulator, server.base_url)


def request(*lines: Line, state: State = State.QUALIFY, **fields: Any) -> LineRequest:
    return LineRequest(call_id="call-1", turn=3, state=state, lines=lines, **fields)


async def collect(language: Any, line_request: LineRequest) -> list[str]:
    return [sentence async for sentence in language.stream_line(line_request)]


# --- sentence splitting -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("Hello there. How are you?", ["Hello there.", "How are you?"]),
        (
            "Hi Mr. Smith, it is 2.5 times faster. Great!",
            ["Hi Mr. Smith, it is 2.5 times faster.", "Great!"],
        ),
        ("Teams e.g. yours save time. Really.", ["Teams e.g. yours save time.", "Really."]),
        ('She said "yes." Then left.', ['She said "yes."', "Then left."]),
        ("No. Not today.", ["No.", "Not today."]),
        ("Call J. Smith today", ["Call J. Smith today"]),
    ],
)
def test_splitter_finds_sentence_ends(text: str, sentences: list[str]) -> None:
    splitter = SentenceSplitter()
    found = splitter.feed(text)
    tail = splitter.flush()
    assert [*found, *([tail] if tail else [])] == sentences


def test_splitter_waits_for_the_space_after_a_stop() -> None:
    # "2." may still become "2.5": a stop only ends a sentence once the next character is seen.
    splitter = SentenceSplitter()
    assert splitter.feed("It takes 2.") == []
    assert splitter.feed("5 minutes. Then") == ["It takes 2.5 minutes."]
    assert splitter.flush() == "Then"


@given(st.lists(st.integers(min_value=1, max_value=7), max_size=40))
def test_splitter_result_does_not_depend_on_chunking(cuts: list[int]) -> None:
    text = "Hi Dr. Who, it's 3.5 times faster! Shall we? Great. Bye"
    splitter, sentences, at = SentenceSplitter(), [], 0
    for size in cuts:
        sentences += splitter.feed(text[at : at + size])
        at += size
    sentences += splitter.feed(text[at:])
    assert [*sentences, splitter.flush()] == [
        "Hi Dr. Who, it's 3.5 times faster!",
        "Shall we?",
        "Great.",
        "Bye",
    ]


# --- streaming ----------------------------------------------------------------------------------


async def test_first_sentence_is_yielded_before_the_stream_ends(openai_server: Emulated) -> None:
    openai_server.emulator.behaviour = OpenAIBehaviour(
        first_token_delay=0.05,
        total_duration=1.0,
        reply="Thanks for that. Most teams get payroll done in about ten minutes a month.",
    )
    started = time.perf_counter()
    arrivals: list[float] = []
    async for _ in openai_server.language(deadline_seconds=5).stream_line(request(Line.PITCH)):
        arrivals.append(time.perf_counter() - started)
    assert len(arrivals) == 2
    # The first sentence is complete at ~0.3 s, the last token leaves the emulator at 1.0 s:
    # a first sentence held back until the stream ended would arrive with the second.
    assert arrivals[1] - arrivals[0] > 0.35
    assert arrivals[1] >= 0.9


async def test_a_line_stops_after_two_sentences(openai_server: Emulated) -> None:
    openai_server.emulator.behaviour.reply = "One here. Two there. Three everywhere. Four."
    assert await collect(openai_server.language(), request(Line.PITCH)) == [
        "One here.",
        "Two there.",
    ]


async def test_unterminated_last_sentence_is_still_said(openai_server: Emulated) -> None:
    openai_server.emulator.behaviour.reply = "Got it. Would you be open to a demo"
    assert await collect(openai_server.language(), request(Line.ASK_CLOSE)) == [
        "Got it.",
        "Would you be open to a demo",
    ]


async def test_deadline_after_the_first_sentence_ends_the_line_there(
    openai_server: Emulated,
) -> None:
    openai_server.emulator.behaviour = OpenAIBehaviour(
        total_duration=3.0, reply="First one. Second sentence arrives far too late."
    )
    started = time.perf_counter()
    said = await collect(openai_server.language(deadline_seconds=1.5), request(Line.PITCH))
    assert said == ["First one."]
    assert time.perf_counter() - started < 2.5


# --- prompt -------------------------------------------------------------------------------------


async def test_prompt_carries_the_script_and_the_question_for_the_state(
    openai_server: Emulated,
) -> None:
    line = request(
        Line.DISCLOSE_AI,
        Line.ASK_QUESTION,
        question_index=1,
        caller_text="Wait, are you a robot?",
        history=(Utterance("agent", "How are you running payroll today?"),),
        lead={"first_name": "Dana", "company": "Acme Bakery"},
    )
    await collect(openai_server.language(), line)
    sent = openai_server.emulator.chat_requests[0]
    assert sent.body["stream"] is True
    assert sent.body["model"] == "gpt-4o-mini"
    prompt = sent.prompt
    for expected in (
        SCRIPT.company,
        SCRIPT.product.name,
        SCRIPT.product.description,
        "And roughly how many people are on payroll?",
        "Wait, are you a robot?",
        "How are you running payroll today?",
        "QUALIFY",
    ):
        assert expected in prompt
    disclose, ask = prompt.index("1. Say plainly"), prompt.index("2. Ask this question")
    assert disclose < ask


async def test_goodbye_prompt_names_why_the_call_ends(openai_server: Emulated) -> None:
    line = request(Line.GOODBYE, state=State.CLOSE, outcome=Outcome.CONVERTED)
    await collect(openai_server.language(), line)
    assert "they said yes" in openai_server.emulator.chat_requests[0].prompt
    line = request(Line.GOODBYE, end_reason=EndReason.CALLER_DNC)
    await collect(openai_server.language(), line)
    assert "asked not to be called" in openai_server.emulator.chat_requests[1].prompt


# --- failures -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "attempts"), [(500, 2), (429, 2), (401, 1)])
async def test_vendor_errors_become_language_errors_after_the_configured_retry(
    openai_server: Emulated, status: int, attempts: int
) -> None:
    openai_server.emulator.behaviour.fail_status = status
    started = time.perf_counter()
    with pytest.raises(LanguageError, match=str(status)):
        await collect(openai_server.language(max_retries=1), request(Line.PITCH))
    assert time.perf_counter() - started < 1.5
    # 5xx and 429 are retried once by the SDK; a bad key is not retried at all.
    assert openai_server.calls == attempts


async def test_zero_retries_means_one_request(openai_server: Emulated) -> None:
    openai_server.emulator.behaviour.fail_status = 500
    with pytest.raises(LanguageError):
        await collect(openai_server.language(max_retries=0), request(Line.PITCH))
    assert openai_server.calls == 1


async def test_a_fast_failure_is_retried_within_the_deadline(openai_server: Emulated) -> None:
    openai_server.emulator.behaviour = OpenAIBehaviour(fail_status=503, fail_count=1, reply="Hi.")
    assert await collect(openai_server.language(max_retries=1), request(Line.PITCH)) == ["Hi."]
    assert openai_server.calls == 2


async def test_a_long_retry_after_cannot_outlast_the_deadline(openai_server: Emulated) -> None:
    # The SDK honours Retry-After up to two minutes; the line's own deadline must still win.
    openai_server.emulator.behaviour = OpenAIBehaviour(fail_status=429, retry_after=30)
    started = time.perf_counter()
    with pytest.raises(LanguageError, match="within"):
        await collect(openai_server.language(deadline_seconds=0.8), request(Line.PITCH))
    assert time.perf_counter() - started < 2.0


async def test_a_hung_server_times_out(openai_server: Emulated) -> None:
    openai_server.emulator.behaviour.hang = True
    started = time.perf_counter()
    with pytest.raises(LanguageError, match="within"):
        await collect(openai_server.language(deadline_seconds=0.5), request(Line.PITCH))
    assert time.perf_counter() - started < 2.0
    assert openai_server.calls == 1


async def test_malformed_stream_is_a_language_error(openai_server: Emulated) -> None:
    openai_server.emulator.behaviour.malformed = True
    started = time.perf_counter()
    with pytest.raises(LanguageError, match="malformed"):
        await collect(openai_server.language(), request(Line.PITCH))
    assert time.perf_counter() - started < 1.5


async def test_an_empty_reply_is_a_language_error(openai_server: Emulated) -> None:
    openai_server.emulator.behaviour.reply = "   "
    with pytest.raises(LanguageError, match="empty"):
        await collect(openai_server.language(), request(Line.PITCH))


# --- the checked wrapper ------------------------------------------------------------------------


def checked(openai_server: Emulated, script: SalesScript = SCRIPT) -> CheckedLanguage:
    return CheckedLanguage(openai_server.language(script=script), ScriptedLanguage(script))


async def test_checked_line_passes_clean_sentences_through(openai_server: Emulated) -> None:
    openai_server.emulator.behaviour.reply = "Got it. How many people do you pay?"
    said = await collect(checked(openai_server), request(Line.ASK_QUESTION, question_index=1))
    assert said == ["Got it.", "How many people do you pay?"]


async def test_failing_first_sentence_gives_the_scripted_line(openai_server: Emulated) -> None:
    openai_server.emulator.behaviour.reply = "No, I'm a real person. So, how do you run payroll?"
    line = request(Line.DISCLOSE_AI, Line.ASK_QUESTION, caller_text="Are you a bot?")
    said = await collect(checked(openai_server), line)
    assert " ".join(said) == ScriptedLanguage(SCRIPT).compose(line)


async def test_failing_later_sentence_cuts_the_line_before_it(openai_server: Emulated) -> None:
    openai_server.emulator.behaviour.reply = "It runs payroll for you. It's just $49 a month!"
    said = await collect(checked(openai_server), request(Line.PITCH))
    assert said == ["It runs payroll for you."]


async def test_disclosure_without_the_word_ai_gives_the_scripted_line(
    openai_server: Emulated,
) -> None:
    openai_server.emulator.behaviour.reply = "Good question! I'm Maya from Northwind Payroll."
    line = request(Line.DISCLOSE_AI)
    said = await collect(checked(openai_server), line)
    assert " ".join(said) == ScriptedLanguage(SCRIPT).compose(line)


@pytest.mark.parametrize(
    "line",
    [
        request(Line.GOODBYE, end_reason=EndReason.NOT_INTERESTED),
        request(Line.TRANSFER),
        request(Line.CANNOT_TRANSFER, Line.GOODBYE, end_reason=EndReason.HANDOFF_UNCONFIGURED),
    ],
)
async def test_fixed_lines_never_call_the_model(openai_server: Emulated, line: LineRequest) -> None:
    said = await collect(checked(openai_server), line)
    assert said == await collect(ScriptedLanguage(SCRIPT), line)
    assert openai_server.calls == 0


async def test_checked_line_passes_model_failures_on(openai_server: Emulated) -> None:
    openai_server.emulator.behaviour.fail_status = 401
    with pytest.raises(LanguageError):
        await collect(checked(openai_server), request(Line.PITCH))


async def test_fixed_parts_can_be_widened(openai_server: Emulated) -> None:
    language = CheckedLanguage(
        openai_server.language(), ScriptedLanguage(SCRIPT), fixed={Line.OPENING, Line.DISCLOSE_AI}
    )
    line = request(Line.DISCLOSE_AI, Line.ASK_QUESTION)
    assert await collect(language, line) == await collect(ScriptedLanguage(SCRIPT), line)
    assert openai_server.calls == 0


# --- the emulator itself ------------------------------------------------------------------------


async def test_emulator_fault_rate_is_reproducible(openai_server: Emulated) -> None:
    async def pattern() -> list[bool]:
        openai_server.emulator.reset(OpenAIBehaviour(fail_status=500, fail_rate=0.5, seed=7))
        language = openai_server.language(max_retries=0)
        outcomes = []
        for _ in range(12):
            try:
                await collect(language, request(Line.PITCH))
                outcomes.append(True)
            except LanguageError:
                outcomes.append(False)
        return outcomes

    first = await pattern()
    assert first == await pattern()
    assert True in first
    assert False in first


async def test_emulator_lists_models_behind_bearer_auth(openai_server: Emulated) -> None:
    client = AsyncOpenAI(
        api_key=openai_server.emulator.api_key, base_url=f"{openai_server.base_url}/v1"
    )
    models = [model.id async for model in client.models.list()]
    assert models == ["gpt-4o-mini"]
    stranger = AsyncOpenAI(api_key="sk-wrong", base_url=f"{openai_server.base_url}/v1")
    with pytest.raises(openai.AuthenticationError):
        await stranger.models.list()
