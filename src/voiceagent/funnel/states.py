"""The funnel's vocabulary: states, caller intents, end reasons, outcomes and agent lines.

These names are part of the product contract (SPEC.md): they are stored, returned by the API and
matched by outside clients, so their spellings never change.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    INIT = "INIT"
    INTRO = "INTRO"
    QUALIFY = "QUALIFY"
    PITCH = "PITCH"
    CLOSE = "CLOSE"
    END = "END"


FUNNEL_ORDER: tuple[State, ...] = tuple(State)


class Intent(StrEnum):
    """What the caller's utterance means for the funnel."""

    INTERESTED = "interested"
    NOT_INTERESTED = "not_interested"
    UNCLEAR = "unclear"
    AI_QUESTION = "ai_question"
    HUMAN_REQUEST = "human_request"
    DO_NOT_CALL = "do_not_call"


# Highest first: a safety intent always wins over a funnel intent (SPEC, "Caller intents").
INTENT_PRECEDENCE: tuple[Intent, ...] = (
    Intent.DO_NOT_CALL,
    Intent.HUMAN_REQUEST,
    Intent.AI_QUESTION,
    Intent.NOT_INTERESTED,
    Intent.INTERESTED,
    Intent.UNCLEAR,
)
SAFETY_INTENTS: frozenset[Intent] = frozenset(
    {Intent.DO_NOT_CALL, Intent.HUMAN_REQUEST, Intent.AI_QUESTION}
)


class Act(StrEnum):
    """What the caller's turn does, beside what it means for the funnel (its `Intent`).

    One act per turn. A question carries its topic and an objection its kind after a colon, so
    the act is one stored string ("question:price", "objection:call_later").
    """

    NONE = "none"  # hold-ons, noise, talk aimed at someone else, a safety request alone
    ANSWER = "answer"  # a reply to the pending question: yes, no, or a fact
    QUESTION_PRICE = "question:price"
    QUESTION_HOW_IT_WORKS = "question:how_it_works"  # also "tell me more"
    QUESTION_WHO_IS_CALLING = "question:who_is_calling"
    QUESTION_WHY_ME = "question:why_me"  # "why me?", "how did you get my number?"
    QUESTION_RECORDED = "question:recorded"
    OBJECTION_HAS_PROVIDER = "objection:has_provider"
    OBJECTION_NO_BUDGET = "objection:no_budget"
    OBJECTION_CALL_LATER = "objection:call_later"  # bad time, call me later / tomorrow
    OBJECTION_SEND_EMAIL = "objection:send_email"
    OBJECTION_NOT_DECISION_MAKER = "objection:not_decision_maker"
    WRONG_NUMBER = "wrong_number"
    HOSTILE = "hostile"
    OTHER_LANGUAGE = "other_language"

    @property
    def kind(self) -> str:
        """ "question", "objection", or the act itself."""
        return self.value.split(":", 1)[0]

    @property
    def detail(self) -> str | None:
        """The question's topic or the objection's kind; None for the other acts."""
        _, _, detail = self.value.partition(":")
        return detail or None


class EndReason(StrEnum):
    COMPLETED = "completed"
    NOT_INTERESTED = "not_interested"
    CALLER_DNC = "caller_dnc"
    SILENCE_TIMEOUT = "silence_timeout"
    HANDOFF_UNCONFIGURED = "handoff_unconfigured"
    TRANSFERRED = "transferred"
    TURN_LIMIT = "turn_limit"
    CALLER_HUNG_UP = "caller_hung_up"
    LLM_ERROR = "llm_error"
    TELEPHONY_ERROR = "telephony_error"
    VOICEMAIL = "voicemail"
    CALLBACK_REQUESTED = "callback_requested"
    WRONG_NUMBER = "wrong_number"
    OTHER_LANGUAGE = "other_language"
    OPERATOR_HANGUP = "operator_hangup"  # ended from the dashboard or the API, not by the funnel


class Cause(StrEnum):
    """Why a call stops from outside the conversation: each is an event `step()` handles."""

    LANGUAGE_FAILED = "language_failed"  # the model failed: the script's goodbye, then hang up
    CARRIER_FAILED = "carrier_failed"  # the carrier could not use our answer (fallback URL)
    CALLER_HUNG_UP = "caller_hung_up"  # the caller put the phone down mid-call
    OPERATOR_HUNG_UP = "operator_hung_up"  # ended from the dashboard or the API


class Outcome(StrEnum):
    CONVERTED = "converted"  # a clear yes to the close ask, and nothing else
    DECLINED = "declined"
    CALLBACK = "callback"  # asked to be called at another time (the time is stored)
    FOLLOW_UP = "follow_up"  # asked for an email instead (the address is stored)


class Line(StrEnum):
    """What one part of the agent's next line has to do; the language provider writes the words."""

    OPENING = "opening"  # business, agent, AI disclosure, opt-out, "is now a good time?"
    REINTRODUCE = "reintroduce"  # who we are again, after "Hello?" / "Who is this?"
    ASK_TIME = "ask_time"  # "do you have a minute?"
    ASK_QUESTION = "ask_question"  # the current qualifying question
    PITCH = "pitch"  # the pitch points
    ASK_INTEREST = "ask_interest"  # "does that sound useful?"
    HANDLE_OBJECTION = "handle_objection"  # one answer to an objection
    ASK_CLOSE = "ask_close"  # ask for the meeting / trial
    DISCLOSE_AI = "disclose_ai"  # plainly: I am an AI assistant
    CHECK_PRESENCE = "check_presence"  # after a silent Gather: "are you still there?"
    TRANSFER = "transfer"  # "Transferring you now"
    CANNOT_TRANSFER = "cannot_transfer"  # no HANDOFF_NUMBER: can't transfer right now
    GOODBYE = "goodbye"  # the closing line, chosen by end reason and outcome
    ANSWER_QUESTION = "answer_question"  # the script's answer to the caller's question (topic)
    ASK_CALLBACK_TIME = "ask_callback_time"  # "when would be a better time?"
    CONFIRM_CALLBACK = "confirm_callback"  # repeats back the time heard
    CONFIRM_MEETING = "confirm_meeting"  # a yes with a time: repeats the time back
    ASK_EMAIL = "ask_email"  # "what's the best email address?"
    CONFIRM_EMAIL = "confirm_email"  # repeats back the address
    CALM = "calm"  # one calm line to a hostile caller
    OTHER_LANGUAGE = "other_language"  # one line in the caller's language, with a goodbye


# Lines the script always writes itself, whatever the model: compliance wants their words exact
# (the opening's disclosure and opt-out, the plain "I'm an AI", the goodbyes), and being fixed
# their audio can be synthesised once, in advance. A line starting with one of these is scripted.
SCRIPTED_LINES: frozenset[Line] = frozenset(
    {
        Line.OPENING,
        Line.DISCLOSE_AI,
        Line.CHECK_PRESENCE,
        Line.GOODBYE,
        Line.TRANSFER,
        Line.CANNOT_TRANSFER,
        Line.CONFIRM_CALLBACK,
        Line.CONFIRM_MEETING,
        Line.CONFIRM_EMAIL,
        Line.CALM,
        Line.OTHER_LANGUAGE,
    }
)
