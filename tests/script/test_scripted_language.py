"""The scripted provider: every part renders, deterministically, with variety and compliance."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from importlib import resources
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from voiceagent.funnel.states import Act, EndReason, Line, Outcome, State
from voiceagent.providers.base import LanguageModel, LineRequest, Utterance
from voiceagent.providers.scripted import ScriptedLanguage, script_values
from voiceagent.script.model import SalesScript, load_script

SCRIPT = load_script()
LANGUAGE = ScriptedLanguage(SCRIPT)
PLACEHOLDER = re.compile(r"[{}]")
MARKUP = re.compile(r"[<>]")


def request(*lines: Line, **fields: Any) -> LineRequest:
    fields.setdefault("call_id", "call-1")
    fields.setdefault("turn", 1)
    fields.setdefault("state", State.QUALIFY)
    return LineRequest(lines=lines, **fields)


def script_with(**changes: Any) -> SalesScript:
    text = resources.files("voiceagent.script").joinpath("example.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    data.update(changes)
    return SalesScript.model_validate(data)


def sentences(text: str) -> int:
    return len(re.findall(r"[.!?](?:\s|$)", text))


def test_it_is_a_language_model() -> None:
    model: LanguageModel = LANGUAGE
    assert model is LANGUAGE


# Each part in the states the funnel speaks it in.
PARTS: list[tuple[Line, State]] = [
    (Line.OPENING, State.INTRO),
    (Line.REINTRODUCE, State.INTRO),
    (Line.ASK_TIME, State.INTRO),
    (Line.ASK_QUESTION, State.QUALIFY),
    (Line.PITCH, State.PITCH),
    (Line.ASK_INTEREST, State.PITCH),
    (Line.HANDLE_OBJECTION, State.PITCH),
    (Line.HANDLE_OBJECTION, State.CLOSE),
    (Line.ASK_CLOSE, State.CLOSE),
    *[(Line.DISCLOSE_AI, s) for s in (State.INTRO, State.QUALIFY, State.PITCH, State.CLOSE)],
    *[(Line.CHECK_PRESENCE, s) for s in (State.INTRO, State.QUALIFY, State.PITCH, State.CLOSE)],
    (Line.TRANSFER, State.END),
    (Line.CANNOT_TRANSFER, State.END),
    (Line.GOODBYE, State.END),
]


@pytest.mark.parametrize(("line", "state"), PARTS, ids=[f"{p.value}-{s.value}" for p, s in PARTS])
@pytest.mark.parametrize("reask", [False, True])
@pytest.mark.parametrize("lead", [{}, {"name": "Dana Ruiz", "company": "Acme"}])
def test_every_part_renders_plain_text(
    line: Line, state: State, reask: bool, lead: Mapping[str, str]
) -> None:
    for index in range(SCRIPT.question_count):
        text = LANGUAGE.compose(
            request(line, state=state, question_index=index, reask=reask, lead=lead)
        )
        assert text.strip()
        assert not PLACEHOLDER.search(text)
        assert not MARKUP.search(text)
        assert sentences(text) <= 4  # the opening: greeting, opt-out and the question


@pytest.mark.parametrize("reason", [None, *EndReason])
@pytest.mark.parametrize("outcome", [None, *Outcome])
def test_every_ending_has_a_goodbye(reason: EndReason | None, outcome: Outcome | None) -> None:
    text = LANGUAGE.compose(
        request(Line.GOODBYE, state=State.END, end_reason=reason, outcome=outcome)
    )
    assert text.strip()
    assert not PLACEHOLDER.search(text)


GOODBYE_SOURCES: list[tuple[EndReason | None, Outcome | None, str]] = [
    (EndReason.COMPLETED, Outcome.CONVERTED, "converted"),
    (EndReason.COMPLETED, Outcome.DECLINED, "declined"),
    (EndReason.COMPLETED, None, "declined"),
    (EndReason.NOT_INTERESTED, None, "not_interested"),
    (EndReason.CALLER_DNC, None, "caller_dnc"),
    (EndReason.SILENCE_TIMEOUT, None, "silence_timeout"),
    (EndReason.HANDOFF_UNCONFIGURED, None, "handoff_unconfigured"),
    (EndReason.TURN_LIMIT, None, "turn_limit"),
    (EndReason.LLM_ERROR, None, "llm_fallback"),
    (EndReason.VOICEMAIL, None, "voicemail"),
    (EndReason.TELEPHONY_ERROR, None, "other"),
    (None, None, "other"),
]


@pytest.mark.parametrize(("reason", "outcome", "field"), GOODBYE_SOURCES)
def test_the_goodbye_matches_the_ending(
    reason: EndReason | None, outcome: Outcome | None, field: str
) -> None:
    expected = [
        t.format(
            agent_name=SCRIPT.agent_name,
            company=SCRIPT.company,
            lead_name=SCRIPT.lead_name_fallback,
        )
        for t in getattr(SCRIPT.goodbyes, field)
    ]
    for turn in range(6):
        text = LANGUAGE.compose(
            request(Line.GOODBYE, turn=turn, state=State.END, end_reason=reason, outcome=outcome)
        )
        assert text in expected


def test_the_dnc_goodbye_promises_no_more_calls() -> None:
    for turn in range(6):
        text = LANGUAGE.compose(
            request(Line.GOODBYE, turn=turn, state=State.END, end_reason=EndReason.CALLER_DNC)
        )
        assert re.search(r"won't call|won't get any more calls|not call", text)


def test_same_request_same_words() -> None:
    req = request(Line.HANDLE_OBJECTION, Line.ASK_INTEREST, caller_text="sounds expensive")
    assert LANGUAGE.compose(req) == LANGUAGE.compose(req)
    assert ScriptedLanguage(load_script()).compose(req) == LANGUAGE.compose(req)


async def test_write_line_returns_the_composed_line() -> None:
    req = request(Line.DISCLOSE_AI, Line.ASK_QUESTION, caller_text="are you a robot?")
    assert await LANGUAGE.write_line(req) == LANGUAGE.compose(req)


@pytest.mark.parametrize(
    "part", [Line.CHECK_PRESENCE, Line.ASK_TIME, Line.ASK_INTEREST, Line.DISCLOSE_AI]
)
def test_a_part_is_never_said_twice_in_a_row(part: Line) -> None:
    history: tuple[Utterance, ...] = ()
    previous = ""
    for turn in range(12):
        text = LANGUAGE.compose(request(part, call_id="call-7", turn=turn, history=history))
        assert text != previous
        history += (Utterance("agent", text), Utterance("caller", "hmm"))
        previous = text


@pytest.mark.parametrize("index", range(SCRIPT.question_count))
def test_a_reask_uses_other_shorter_words_than_the_ask(index: int) -> None:
    for n in range(20):
        ask = request(Line.ASK_QUESTION, call_id=f"c{n}", turn=2, question_index=index)
        first = LANGUAGE.compose(ask)
        history = (Utterance("agent", first), Utterance("caller", "sorry?"))
        again = LANGUAGE.compose(
            replace(ask, turn=3, reask=True, caller_text="sorry?", history=history)
        )
        assert again != first
        assert len(again) <= len(first)


@pytest.mark.parametrize("part", [Line.OPENING, Line.ASK_QUESTION, Line.PITCH, Line.ASK_CLOSE])
def test_calls_sound_different_from_each_other(part: Line) -> None:
    texts = {LANGUAGE.compose(request(part, call_id=f"call-{n}", turn=0)) for n in range(40)}
    assert len(texts) >= 3


def test_disclosure_always_says_ai() -> None:
    for n in range(30):
        text = LANGUAGE.compose(request(Line.DISCLOSE_AI, call_id=f"c{n}", turn=n))
        assert re.search(r"\bAI\b", text)
        assert "assistant" in text


@pytest.mark.parametrize("n", range(10))
def test_opening_names_business_agent_ai_and_opt_out(n: int) -> None:
    text = LANGUAGE.compose(request(Line.OPENING, call_id=f"c{n}", turn=0, state=State.INTRO))
    assert SCRIPT.company in text
    assert SCRIPT.agent_name in text
    assert re.search(r"\bAI\b", text)
    assert re.search(r"\bstop\b|off our list", text)
    assert text.endswith("?")


def test_opening_without_proactive_disclosure_still_discloses_on_request() -> None:
    language = ScriptedLanguage(script_with(disclose_ai_in_opening=False))
    for n in range(10):
        opening = language.compose(request(Line.OPENING, call_id=f"c{n}", state=State.INTRO))
        assert "AI" not in opening
        assert SCRIPT.company in opening
        assert re.search(r"\bstop\b|off our list", opening)
        assert "AI" in language.compose(request(Line.DISCLOSE_AI, call_id=f"c{n}"))


def test_the_opening_does_not_ask_for_time_twice() -> None:
    text = LANGUAGE.compose(request(Line.OPENING, Line.ASK_TIME, state=State.INTRO))
    assert text.count("?") == 1


def test_transfer_is_the_exact_spec_line() -> None:
    assert LANGUAGE.compose(request(Line.TRANSFER, state=State.END)) == "Transferring you now."


@pytest.mark.parametrize(
    ("act", "pool"),
    [
        (Act.OBJECTION_HAS_PROVIDER, SCRIPT.objections.has_provider),
        (Act.OBJECTION_NO_BUDGET, SCRIPT.objections.no_budget),
        (Act.OBJECTION_NOT_DECISION_MAKER, SCRIPT.objections.not_decision_maker),
        (Act.ANSWER, SCRIPT.objections.other),
        (Act.NONE, SCRIPT.objections.other),
        (Act.QUESTION_PRICE, SCRIPT.objections.other),
    ],
)
def test_objection_answer_follows_the_kind_of_objection(act: Act, pool: list[str]) -> None:
    text = LANGUAGE.compose(request(Line.HANDLE_OBJECTION, act=act, state=State.PITCH))
    assert text in [p.format_map(script_values(SCRIPT, {})) for p in pool]


@pytest.mark.parametrize(
    ("act", "pool"),
    [
        (Act.QUESTION_PRICE, SCRIPT.faq.price),
        (Act.QUESTION_HOW_IT_WORKS, SCRIPT.faq.how_it_works),
        (Act.QUESTION_WHO_IS_CALLING, SCRIPT.faq.who_is_calling),
        (Act.QUESTION_WHY_ME, SCRIPT.faq.why_me),
        (Act.QUESTION_RECORDED, SCRIPT.faq.recorded),
    ],
)
def test_a_question_gets_the_scripts_answer_for_its_topic(act: Act, pool: list[str]) -> None:
    text = LANGUAGE.compose(request(Line.ANSWER_QUESTION, act=act, state=State.PITCH))
    assert text in [p.format_map(script_values(SCRIPT, {})) for p in pool]


def test_new_facts_are_said_back_in_the_callers_own_words() -> None:
    facts = {"employees": "forty", "payroll_tool": "spreadsheets"}
    text = LANGUAGE.compose(
        request(
            Line.PITCH,
            Line.ASK_INTEREST,
            caller_text="we're like 40 people, mostly on spreadsheets",
            facts=facts,
            new_facts=("employees", "payroll_tool"),
            state=State.PITCH,
        )
    )
    assert text.startswith("Forty people")
    assert "spreadsheets" in text.split(".")[0]
    assert "manual work" in text or "keep on top of" in text


def test_a_fact_condition_is_honoured() -> None:
    facts = {"employees": "twelve", "payroll_tool": "Gusto"}
    text = LANGUAGE.compose(
        request(Line.PITCH, caller_text="Gusto", facts=facts, new_facts=("payroll_tool",))
    )
    assert text.startswith(("Twelve people on Gusto", "Okay, twelve people with Gusto"))
    assert "manual work" not in text


def test_the_callback_and_the_email_are_repeated_back() -> None:
    callback = LANGUAGE.compose(
        request(Line.CONFIRM_CALLBACK, Line.GOODBYE, time_heard="tomorrow at 10 am")
    )
    assert "tomorrow at 10 am" in callback
    email = LANGUAGE.compose(request(Line.CONFIRM_EMAIL, Line.GOODBYE, email="jo@acme.com"))
    assert "jo@acme.com" in email


def test_another_language_is_answered_in_it_with_english_for_the_rest() -> None:
    assert LANGUAGE.compose(request(Line.OTHER_LANGUAGE, language="es")).startswith("Lo siento")
    assert (
        LANGUAGE.compose(request(Line.OTHER_LANGUAGE, language="zz"))
        == (SCRIPT.other_language["en"])
    )


def test_the_disclosure_never_starts_with_yes() -> None:
    for turn in range(12):
        text = LANGUAGE.compose(request(Line.DISCLOSE_AI, turn=turn))
        assert not text.lower().startswith(("yes", "yeah"))
        assert "AI" in text


def test_moving_forward_after_an_answer_is_acknowledged() -> None:
    acks = tuple(SCRIPT.acknowledgements)
    answered = LANGUAGE.compose(request(Line.ASK_QUESTION, question_index=1, caller_text="Gusto"))
    assert answered.startswith(acks)
    silent = LANGUAGE.compose(request(Line.ASK_QUESTION, question_index=1))
    assert not silent.startswith(acks)
    reask = LANGUAGE.compose(request(Line.ASK_QUESTION, reask=True, caller_text="what?"))
    assert not reask.startswith(acks)
    objection = LANGUAGE.compose(request(Line.HANDLE_OBJECTION, caller_text="too pricey"))
    assert not objection.startswith(acks)


def test_lead_name_is_used_and_falls_back_to_a_neutral_form() -> None:
    named = LANGUAGE.compose(request(Line.OPENING, lead={"name": "Dana"}, state=State.INTRO))
    assert "Dana" in named
    anonymous = LANGUAGE.compose(request(Line.OPENING, state=State.INTRO))
    assert f" {SCRIPT.lead_name_fallback}," in anonymous


def test_lead_fields_cannot_inject_braces_or_markup() -> None:
    lead = {"name": "{company} <Say>x</Say>", "company": "{{evil}}"}
    text = LANGUAGE.compose(request(Line.OPENING, lead=lead, state=State.INTRO))
    assert not PLACEHOLDER.search(text)
    assert not MARKUP.search(text)


def test_a_one_question_script_with_single_phrasings_still_works() -> None:
    script = script_with(
        qualifying_questions=[{"field": "tool", "ask": "What do you use for payroll?"}],
        acknowledge_facts=[],
        still_there="Still there?",
    )
    language = ScriptedLanguage(script)
    history: tuple[Utterance, ...] = ()
    for turn in range(3):
        text = language.compose(request(Line.CHECK_PRESENCE, turn=turn, history=history))
        assert text == "Still there?"
        history += (Utterance("agent", text),)
    assert language.compose(request(Line.ASK_QUESTION, reask=True, history=history))


requests = st.builds(
    LineRequest,
    call_id=st.text(max_size=12),
    turn=st.integers(min_value=0, max_value=60),
    state=st.sampled_from(State),
    lines=st.lists(st.sampled_from(Line), min_size=1, max_size=4).map(tuple),
    question_index=st.integers(min_value=0, max_value=SCRIPT.question_count - 1),
    reask=st.booleans(),
    end_reason=st.none() | st.sampled_from(EndReason),
    outcome=st.none() | st.sampled_from(Outcome),
    caller_text=st.text(max_size=40),
    history=st.lists(
        st.builds(Utterance, role=st.sampled_from(["agent", "caller"]), text=st.text(max_size=60)),
        max_size=6,
    ).map(tuple),
    lead=st.dictionaries(st.sampled_from(["name", "first_name", "company"]), st.text(max_size=20)),
    act=st.sampled_from(Act),
    facts=st.dictionaries(st.sampled_from(["employees", "payroll_tool"]), st.text(max_size=20)),
    new_facts=st.lists(st.sampled_from(["employees", "payroll_tool"]), max_size=2).map(tuple),
    time_heard=st.text(max_size=20),
    email=st.text(max_size=20),
    language=st.sampled_from(["", "es", "fr", "xx"]),
)


@settings(max_examples=300, deadline=None)
@given(requests)
def test_any_request_renders_without_braces(req: LineRequest) -> None:
    text = LANGUAGE.compose(req)
    assert text.strip()
    assert not PLACEHOLDER.search(text)
    assert text == LANGUAGE.compose(req)


def test_a_plain_no_at_the_opening_gets_the_opening_answer() -> None:
    text = LANGUAGE.compose(request(Line.HANDLE_OBJECTION, act=Act.ANSWER, state=State.INTRO))
    assert text in SCRIPT.objections.at_opening


def test_a_callback_with_no_time_says_it_will_try_another_time() -> None:
    request_ = request(Line.GOODBYE, end_reason=EndReason.CALLBACK_REQUESTED)
    assert LANGUAGE.compose(request_) in SCRIPT.callback.no_time
    timed = replace(request_, time_heard="tomorrow at 10 am")
    assert LANGUAGE.compose(timed) in SCRIPT.goodbyes.callback_requested
