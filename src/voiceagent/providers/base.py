"""The small protocols every provider implements, with our own types in and out.

Vendor types never cross these lines: a provider translates its vendor's errors into
`voiceagent.errors` and its vendor's data into the dataclasses below.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

from voiceagent.funnel.states import Act, EndReason, Intent, Line, Outcome, State

# Re-exported: the classifier types moved to `intent`, which must not import providers.
from voiceagent.intent.types import Classification as Classification
from voiceagent.intent.types import Classifier as Classifier


@dataclass(frozen=True, slots=True)
class Utterance:
    role: Literal["agent", "caller"]
    text: str


@dataclass(frozen=True, slots=True)
class LineRequest:
    """Everything a language provider may use to write the agent's next line."""

    call_id: str
    turn: int
    state: State  # the funnel state the line is spoken in
    lines: tuple[Line, ...]  # what the line must do, in order
    question_index: int = 0  # the qualifying question being asked (QUALIFY)
    reask: bool = False  # the caller did not get the last prompt: say it differently
    end_reason: EndReason | None = None
    outcome: Outcome | None = None
    caller_text: str = ""  # the caller's last words ("" at the start or after silence)
    history: tuple[Utterance, ...] = ()
    lead: Mapping[str, str] = field(default_factory=dict)
    act: Act = Act.NONE  # what the caller's last words did (a question's topic, an objection)
    facts: Mapping[str, str] = field(default_factory=dict)  # answers so far, as the agent says them
    new_facts: tuple[str, ...] = ()  # the fields the caller's last words gave
    time_heard: str = ""  # a time the caller named (a callback, a meeting), as the agent says it
    email: str = ""  # where a follow-up goes
    language: str = ""  # the caller's language when it is not English (ISO code)


class LanguageModel(Protocol):
    def stream_line(self, request: LineRequest) -> AsyncIterator[str]:
        """Yield the agent's next line sentence by sentence, each a complete sentence.

        Raises LanguageError when the model fails or times out. The caller checks every
        sentence before it is spoken and may stop reading early.
        """
        ...


class IntentModel(Protocol):
    """An optional model-backed classifier for the funnel intents (never the safety ones)."""

    async def classify(self, text: str, *, state: State, agent_line: str) -> Intent:
        """Label a caller utterance; raises LanguageError when the model fails."""
        ...


# Telephone-quality audio Twilio plays without transcoding: 8 kHz, 8-bit mu-law, mono.
AUDIO_FORMAT = "ulaw_8000"


class Speech(Protocol):
    """Text to speech, streamed as raw 8 kHz mu-law bytes (no container: the service adds WAV)."""

    name: str

    def synthesize(self, text: str) -> AsyncIterator[bytes]:
        """Yield audio chunks as they arrive; raises SpeechError on failure or timeout."""
        ...


@dataclass(frozen=True, slots=True)
class OutboundCall:
    """A call to place: where to ring and where the carrier sends its webhooks."""

    to: str  # E.164
    from_: str  # E.164 caller id
    url: str  # the voice webhook (TwiML)
    status_callback: str
    fallback_url: str | None = None  # where Twilio goes when the voice webhook fails


class Telephony(Protocol):
    """Places calls and vouches for the webhooks that come back."""

    name: str  # "twilio" or "simulated"

    async def place_call(self, call: OutboundCall) -> str:
        """Place the call; return the carrier's call id (Twilio's CallSid)."""
        ...

    def verify_signature(self, url: str, params: Mapping[str, str], signature: str) -> bool:
        """True when `signature` is the carrier's X-Twilio-Signature for this URL and form."""
        ...

    async def hang_up(self, sid: str) -> None:
        """End a live call now (the carrier then sends its final status callback).

        Raises TelephonyError when the carrier refuses; a call already over is no error.
        """
        ...


@dataclass(frozen=True)
class Providers:
    """The providers one app runs with; `providers.wiring` builds them from the settings."""

    telephony: Telephony
    language: LanguageModel
    classifier: Classifier
    speech: Speech | None = None  # None: TwiML <Say>
    intent_model: IntentModel | None = None  # None: the local classifier decides alone


# What a carrier reports, in our own words. The Twilio webhooks and ConversationRelay messages
# are parsed into these at the edge (`providers/twilio/`); the turn core never sees a form field.


@dataclass(frozen=True, slots=True)
class Pickup:
    """The call connected: its first turn, before the caller has said anything."""


@dataclass(frozen=True, slots=True)
class Said:
    """The caller's words, as the carrier's recogniser heard them."""

    text: str


@dataclass(frozen=True, slots=True)
class Quiet:
    """Nothing was said for `seconds` after the agent's line."""

    seconds: float


Input = Pickup | Said | Quiet


@dataclass(frozen=True, slots=True)
class StatusReport:
    """The carrier's word on where a call is (queued … completed), in our status spelling."""

    sid: str
    status: str  # a `calls.status.CallStatus` value
    sequence: int | None = None
    duration_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class SessionEnd:
    """A streaming session is over: `ended` (we ended it), `completed` (the caller hung up),
    or `failed` (the carrier could not run it)."""

    sid: str
    status: str
    handoff: str = ""  # what we sent with `end`
    error: str = ""


# What a streaming session (ConversationRelay) reports while it runs, in our own words.


@dataclass(frozen=True, slots=True)
class SessionStart:
    """The session is up: which call it carries (from the TwiML's own parameters)."""

    sid: str
    session_id: str
    call_id: str


@dataclass(frozen=True, slots=True)
class Interrupted:
    """The caller spoke over the agent: the line was cut after `heard`."""

    heard: str
    after_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Digit:
    digit: str


@dataclass(frozen=True, slots=True)
class Speaking:
    """Who is speaking now, as the carrier's speaker events say (`agent` done: `on` is False)."""

    who: Literal["agent", "caller"]
    on: bool


@dataclass(frozen=True, slots=True)
class Problem:
    """The carrier reported an error, or sent something we cannot read."""

    description: str
    malformed: bool = False


StreamEvent = SessionStart | Said | Interrupted | Digit | Speaking | Problem
