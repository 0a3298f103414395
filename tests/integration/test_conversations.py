"""Whole conversations, as a caller would hold them: the agent must listen.

Each case is a scripted callee talking to the real app over HTTP (simulated carrier, signed
webhooks), once with the script writing the lines and once with the OpenAI-compatible emulator
writing them through the real SDK. Each asserts the state path, the acts stored on the caller's
messages, the answers remembered, the end, and what the agent had to say.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from tests.conftest import Live
from tests.integration.conftest import TRANSPORTS, on_transport

from voiceagent.providers.simulated import CalleeDirectory, ScriptedCallee

CALLEE = "+14155550142"
FULL = ("INIT", "INTRO", "QUALIFY", "PITCH", "CLOSE", "END")
TO_PITCH = ("INIT", "INTRO", "QUALIFY", "PITCH")
YES_TO_PITCH = ("Sure, go ahead.", "We use Gusto.", "About thirty people.")


@dataclass(frozen=True)
class Conversation:
    name: str
    replies: tuple[str | None, ...]
    path: tuple[str, ...]
    end_reason: str | None
    outcome: str | None = None
    acts: dict[int, str] = field(default_factory=dict)  # caller message index -> act
    answers: dict[str, Any] = field(default_factory=dict)
    # (agent line index, words it must hold, "a|b" for either): fixed lines and the script's
    # facts, whoever writes the line.
    says: tuple[tuple[int, str], ...] = ()
    # The same, for lines only the script writes word for word.
    scripted_says: tuple[tuple[int, str], ...] = ()
    never_says: tuple[str, ...] = ()
    lead: dict[str, str] = field(default_factory=dict)
    blocked: bool = False  # the number is on the do-not-call list afterwards


CONVERSATIONS = [
    # --- questions are answered, and the pending question asked again -------------------------
    Conversation(
        "price_at_the_opening",
        ("How much does it cost?", *YES_TO_PITCH, "Yes, that sounds useful.", "Yes, book it."),
        FULL,
        "completed",
        "converted",
        acts={0: "question:price", 5: "answer"},
        answers={"payroll_tool": "Gusto", "employees": 30},
        says=((1, "$6"),),
    ),
    Conversation(
        "price_at_close_is_not_a_yes",
        (*YES_TO_PITCH, "Yes.", "Wait, you didn't answer, what's the price?", "No thanks."),
        FULL,
        "completed",
        "declined",
        acts={4: "question:price"},
        says=((5, "$6"),),
        never_says=("calendar invite",),
    ),
    Conversation(
        "a_yes_with_a_time_hears_it_back",
        (*YES_TO_PITCH, "Sure.", "Yes, let's book it. Thursday afternoon works for me."),
        FULL,
        "completed",
        "converted",
        acts={4: "answer"},
        says=((5, "Thursday"),),
    ),
    Conversation(
        "price_at_close_then_yes",
        (*YES_TO_PITCH, "Sure.", "How much is it per month?", "Okay, that's fine. Book it."),
        FULL,
        "completed",
        "converted",
        acts={4: "question:price"},
        says=((5, "$6"),),
    ),
    Conversation(
        "the_same_question_twice",
        (*YES_TO_PITCH, "How much is it?", "Sorry, how much did you say it was?", "Yes.", "Yes."),
        FULL,
        "completed",
        "converted",
        acts={3: "question:price", 4: "question:price"},
        says=((4, "$6"), (5, "$6")),
    ),
    Conversation(
        "tell_me_more_at_the_pitch",
        (*YES_TO_PITCH, "Tell me more.", "Okay, yes, that could help.", "Sure, let's do it."),
        FULL,
        "completed",
        "converted",
        acts={3: "question:how_it_works"},
        scripted_says=((4, "payday|clicks"),),
    ),
    Conversation(
        "who_is_calling",
        ("Who is this?", *YES_TO_PITCH, "Yes.", "Yes."),
        FULL,
        "completed",
        "converted",
        acts={0: "question:who_is_calling"},
        scripted_says=((1, "Maya"),),
    ),
    Conversation(
        "how_did_you_get_my_number",
        ("How did you get my number?", "Okay. Sure, go ahead.", "We use ADP.", "Forty.", "No."),
        TO_PITCH,
        "caller_hung_up",
        acts={0: "question:why_me"},
        scripted_says=((1, "directories"),),
    ),
    Conversation(
        "is_this_recorded",
        ("Is this call being recorded?", "Okay, go ahead."),
        ("INIT", "INTRO", "QUALIFY"),
        "caller_hung_up",
        acts={0: "question:recorded"},
        scripted_says=((1, "recorded"),),
    ),
    Conversation(
        "no_manager_just_the_price",
        ("No, I don't need a manager, what's the price?", "Okay, go ahead."),
        ("INIT", "INTRO", "QUALIFY"),
        "caller_hung_up",
        acts={0: "question:price"},
        says=((1, "$6"),),
    ),
    Conversation(
        "stop_as_hold_on_before_a_question",
        ("Hold on, stop, which company is this?", "Okay, go ahead."),
        ("INIT", "INTRO", "QUALIFY"),
        "caller_hung_up",
        acts={0: "question:who_is_calling"},
    ),
    # --- objections: the script's answer for the kind, once per state ---------------------------
    Conversation(
        "has_provider_in_qualify_goes_on",
        ("Sure.", "We already have a provider.", "It's ADP.", "About fifty.", "Yes.", "Yes."),
        FULL,
        "completed",
        "converted",
        acts={1: "objection:has_provider"},
        answers={"payroll_tool": "ADP", "employees": 50},
        scripted_says=((2, "switched|compare us"),),
    ),
    Conversation(
        "has_provider_twice_ends",
        ("Sure.", "We already have a provider.", "No really, we're happy with it. Not interested."),
        ("INIT", "INTRO", "QUALIFY", "END"),
        "not_interested",
        acts={1: "objection:has_provider"},
    ),
    Conversation(
        "no_budget_at_the_pitch_then_yes",
        (
            *YES_TO_PITCH,
            "We don't have the budget right now.",
            "Okay, fair. It could help.",
            "Yes.",
        ),
        FULL,
        "completed",
        "converted",
        acts={3: "objection:no_budget"},
        scripted_says=((4, "setup fee|demo is free"),),
    ),
    Conversation(
        "no_budget_twice_at_close_is_declined",
        (*YES_TO_PITCH, "Yes.", "We can't afford it right now.", "No, we really can't."),
        FULL,
        "completed",
        "declined",
        acts={4: "objection:no_budget"},
    ),
    Conversation(
        "not_the_decision_maker_in_intro",
        ("I'm not the one who decides that, the owner does.", "Okay, sure, go ahead."),
        ("INIT", "INTRO", "QUALIFY"),
        "caller_hung_up",
        acts={0: "objection:not_decision_maker"},
    ),
    Conversation(
        "a_plain_no_in_intro_gets_one_answer",
        ("Not really, no.", "No, I'm not interested."),
        ("INIT", "INTRO", "END"),
        "not_interested",
    ),
    Conversation(
        "a_plain_no_in_qualify_ends_at_once",
        ("Sure.", "No thanks, not interested."),
        ("INIT", "INTRO", "QUALIFY", "END"),
        "not_interested",
    ),
    # --- call me later: the time is heard, repeated back, stored --------------------------------
    Conversation(
        "driving_call_me_tomorrow",
        ("I'm driving, call me tomorrow.",),
        ("INIT", "INTRO", "END"),
        "callback_requested",
        "callback",
        acts={0: "objection:call_later"},
        says=((1, "tomorrow"),),
        never_says=("minute right now",),
    ),
    Conversation(
        "call_me_later_then_a_time",
        ("Can you call me back later?", "Try me next Tuesday at 3."),
        ("INIT", "INTRO", "END"),
        "callback_requested",
        "callback",
        acts={0: "objection:call_later"},
        says=((2, "Tuesday"), (2, "3 pm")),
    ),
    Conversation(
        "bad_time_in_qualify",
        ("Sure.", "Sorry, I'm slammed, call me Friday morning."),
        ("INIT", "INTRO", "QUALIFY", "END"),
        "callback_requested",
        "callback",
        acts={1: "objection:call_later"},
        says=((2, "Friday morning"),),
    ),
    Conversation(
        "call_me_later_at_close_is_not_a_yes",
        (*YES_TO_PITCH, "Yes.", "Call me tomorrow afternoon and we'll set it up."),
        FULL,
        "callback_requested",
        "callback",
        acts={4: "objection:call_later"},
        says=((5, "tomorrow"),),
        never_says=("calendar invite",),
    ),
    # --- email me: the address is confirmed, a follow-up stored ---------------------------------
    Conversation(
        "email_me_at_close_asks_the_address",
        (*YES_TO_PITCH, "Yes.", "No, I said just email me the info.", "It's jo at acme dot com."),
        FULL,
        "completed",
        "follow_up",
        acts={4: "objection:send_email"},
        says=((6, "jo@acme.com"),),
        never_says=("calendar invite",),
    ),
    Conversation(
        "email_me_uses_the_leads_address",
        ("Just send me an email.",),
        ("INIT", "INTRO", "END"),
        "completed",
        "follow_up",
        acts={0: "objection:send_email"},
        says=((1, "sam@shop.com"),),
        lead={"email": "sam@shop.com"},
    ),
    Conversation(
        "yes_but_email_me_first",
        (*YES_TO_PITCH, "Sure.", "Yes, but email me the details first.", "sam at shop dot com"),
        FULL,
        "completed",
        "follow_up",
        acts={4: "objection:send_email"},
    ),
    # --- wrong number, hostility, another language ----------------------------------------------
    Conversation(
        "wrong_number",
        ("Sorry, wrong number.",),
        ("INIT", "INTRO", "END"),
        "wrong_number",
        acts={0: "wrong_number"},
        says=((1, "won't call"),),
        blocked=True,
    ),
    Conversation(
        "wrong_person_in_qualify",
        ("Sure.", "Wait, there's no Dave here. You've got the wrong person."),
        ("INIT", "INTRO", "QUALIFY", "END"),
        "wrong_number",
        acts={1: "wrong_number"},
        blocked=True,
    ),
    Conversation(
        "hostile",
        ("This is a scam. Get lost, you creeps.",),
        ("INIT", "INTRO", "END"),
        "not_interested",
        acts={0: "hostile"},
        says=((1, "sorry"),),
        never_says=("demo",),
    ),
    Conversation(
        "spanish",
        ("Perdón, no hablo inglés.",),
        ("INIT", "INTRO", "END"),
        "other_language",
        acts={0: "other_language"},
        says=((1, "Lo siento"),),
    ),
    Conversation(
        "french",
        ("Désolé, je ne parle pas anglais.",),
        ("INIT", "INTRO", "END"),
        "other_language",
        acts={0: "other_language"},
        says=((1, "anglais"),),
    ),
    # --- memory: answers are remembered and never asked again -----------------------------------
    Conversation(
        "forty_people_on_spreadsheets_answers_both",
        ("Sure.", "We're like 40 people, mostly on spreadsheets.", "Yes.", "Yes."),
        FULL,
        "completed",
        "converted",
        answers={"employees": 40, "payroll_tool": "spreadsheets"},
        scripted_says=((2, "Forty people"), (2, "spreadsheets"), (2, "manual work|keep on top")),
        never_says=("how many", "How many"),
    ),
    Conversation(
        "sixty_in_words",
        ("Sure.", "QuickBooks.", "sixty", "Yes.", "Yes."),
        FULL,
        "completed",
        "converted",
        answers={"employees": 60, "payroll_tool": "QuickBooks"},
    ),
    Conversation(
        "around_sixty",
        ("Sure.", "QuickBooks.", "around 60", "Yes.", "Yes."),
        FULL,
        "completed",
        "converted",
        answers={"employees": 60},
    ),
    Conversation(
        "sixty_in_digits",
        ("Sure.", "QuickBooks.", "60", "Yes.", "Yes."),
        FULL,
        "completed",
        "converted",
        answers={"employees": 60},
    ),
    Conversation(
        "everything_answered_in_the_intro",
        ("Sure, go ahead. We're about twelve people and we do it all by hand.", "Yes.", "Yes."),
        ("INIT", "INTRO", "PITCH", "CLOSE", "END"),
        "completed",
        "converted",
        answers={"employees": 12, "payroll_tool": "paper"},
    ),
    Conversation(
        "a_count_given_before_it_is_asked",
        ("Sure.", "We're a team of twenty five and we use Gusto.", "Yes.", "Yes."),
        FULL,
        "completed",
        "converted",
        answers={"employees": 25, "payroll_tool": "Gusto"},
        never_says=("how many", "How many"),
    ),
    # --- "stop" and the other safety requests ----------------------------------------------------
    Conversation("stop", ("stop",), ("INIT", "INTRO", "END"), "caller_dnc", blocked=True),
    Conversation("please_stop", ("please stop",), ("INIT", "INTRO", "END"), "caller_dnc"),
    Conversation("okay_stop", ("okay stop",), ("INIT", "INTRO", "END"), "caller_dnc"),
    Conversation(
        "stop_it_in_qualify",
        ("Sure.", "Stop it."),
        ("INIT", "INTRO", "QUALIFY", "END"),
        "caller_dnc",
        blocked=True,
    ),
    Conversation(
        "stop_dialing_this_number",
        ("Stop dialing this number.",),
        ("INIT", "INTRO", "END"),
        "caller_dnc",
    ),
    Conversation(
        "are_you_a_real_person",
        ("Are you a real person?", "Okay. Sure, go ahead."),
        ("INIT", "INTRO", "QUALIFY"),
        "caller_hung_up",
        says=((1, "AI"),),
    ),
    Conversation(
        "tag_question_about_a_bot",
        ("Sure.", "You're not a bot, are you?", "Okay, we use Gusto."),
        ("INIT", "INTRO", "QUALIFY"),
        "caller_hung_up",
        says=((2, "AI"),),
    ),
    Conversation(
        "a_request_for_a_person_as_a_question",
        ("Is there somebody I could actually speak with?",),
        ("INIT", "INTRO", "END"),
        "handoff_unconfigured",
    ),
    Conversation(
        "silence_then_answers",
        (None, "Sorry, yes, go ahead.", "Paychex.", "Fifteen people.", "Yes.", "Yes."),
        FULL,
        "completed",
        "converted",
        answers={"payroll_tool": "Paychex", "employees": 15},
    ),
]


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=["scripted", "model"])
def talk(
    request: pytest.FixtureRequest,
    live_app: Callable[..., Any],
    voiced_app: Callable[..., Any],
    transport: str,
) -> Callable[..., Any]:
    """Start the app with the script writing the lines, or the emulated model writing them,
    on the Gather loop or on ConversationRelay."""

    @asynccontextmanager
    async def start(directory: CalleeDirectory) -> AsyncIterator[Live]:
        if request.param == "scripted":
            async with on_transport(live_app, transport)(directory) as live:
                yield live
        else:
            async with on_transport(voiced_app, transport)(directory, tts=False) as voiced:
                yield voiced.live

    start.writer = request.param  # type: ignore[attr-defined]
    return start


@pytest.mark.parametrize("case", CONVERSATIONS, ids=[c.name for c in CONVERSATIONS])
async def test_the_agent_listens(talk: Any, case: Conversation) -> None:
    directory = CalleeDirectory.bundled()
    directory.register(CALLEE, ScriptedCallee(list(case.replies)))
    async with talk(directory) as live:
        call = await live.run_call(CALLEE, **case.lead)
        again = await live.http.post("/call/start", json={"phone": CALLEE})
    agent = [m["text"] for m in call["messages"] if m["role"] == "agent"]
    caller = [m for m in call["messages"] if m["role"] == "caller"]
    transcript = "\n".join(f"{m['role']}: {m['text']}" for m in call["messages"])

    states = ["INIT"] + [t["to_state"] for t in call["transitions"]]
    # A caller who hangs up mid-funnel ends the call too: the funnel's stop, from where it was.
    path = (*case.path, "END") if case.end_reason == "caller_hung_up" else case.path
    assert tuple(states) == path, transcript
    assert call["state"] == "END", transcript
    assert (call["end_reason"], call["outcome"]) == (case.end_reason, case.outcome), transcript
    for index, act in case.acts.items():
        assert caller[index]["act"] == act, transcript
    for name, value in case.answers.items():
        assert call["answers"].get(name) == value, (call["answers"], transcript)
    checks = case.says + (case.scripted_says if talk.writer == "scripted" else ())
    for index, words in checks:
        assert any(word in agent[index] for word in words.split("|")), transcript
    for words in case.never_says:
        assert all(words not in line for line in agent[1:]), transcript
    if case.outcome == "callback":
        assert call["callback_at"]
        assert call["callback_note"]
    if case.outcome == "follow_up":
        assert call["follow_up_to"]
    if "Thursday" in case.replies[-1]:
        assert "Thursday" in call["meeting_note"]
        assert call["meeting_at"]
    if case.blocked:
        assert again.status_code == 409
    for line in agent:
        assert not line.lower().startswith(("yes, i'm an ai", "yes, i am an ai"))
