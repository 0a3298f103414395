"""What happened on one simulated call, event by event, as the carrier saw it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class EventKind(StrEnum):
    STATUS = "status"  # a status callback was sent; text is the CallStatus
    WEBHOOK = "webhook"  # TwiML was fetched; text is the URL
    SAY = "say"  # the callee heard an agent line (or Twilio's own error message)
    PLAY = "play"  # an audio file was downloaded and played; text is the URL
    PAUSE = "pause"
    REPLY = "reply"  # the callee spoke; text is what they said
    SILENCE = "silence"  # a Gather timed out with nothing recognised
    DIAL = "dial"  # the call was handed to another number; text is that number
    HANGUP = "hangup"  # text says who ended the call: agent, callee or carrier
    ERROR = "error"
    # ConversationRelay. Agent lines are SAY events and the callee's words REPLY events, as on
    # <Gather>, with `relay: True` (and the relay's specifics) in their data.
    CONNECT = "connect"  # the relay WebSocket opened; text is its URL
    INTERRUPT = "interrupt"  # the callee talked over the agent; text is what it heard of the line
    DIGITS = "digits"  # the agent had DTMF digits sent (sendDigits); text is the digits
    LANGUAGE = "language"  # the agent switched languages; text names them
    SESSION = "session"  # a relay session ended; text is its SessionStatus


EventData = Mapping[str, str | int | float | bool]


@dataclass(frozen=True, slots=True)
class CallEvent:
    kind: EventKind
    text: str
    at: float  # seconds on the call's clock since it was placed (simulated waits included)
    data: EventData = field(default_factory=dict)


@dataclass(slots=True)
class CallTranscript:
    sid: str
    to: str
    from_: str
    events: list[CallEvent] = field(default_factory=list)
    status: str | None = None  # Twilio's final CallStatus; None while the call is live
    dialled: str | None = None
    round_trips: int = 0  # TwiML fetches made
    errors: list[str] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.status is not None

    def conversation(self) -> list[tuple[str, str]]:
        """The call as a script: ("agent", line) and ("callee", words or "(silence)")."""
        script: list[tuple[str, str]] = []
        for event in self.events:
            if event.kind in (EventKind.SAY, EventKind.PLAY):
                script.append(("agent", str(event.data.get("heard", event.text))))
            elif event.kind is EventKind.REPLY:
                script.append(("callee", event.text))
            elif event.kind is EventKind.SILENCE:
                script.append(("callee", "(silence)"))
        return script

    def relay_timings(self) -> list[tuple[int, int]]:
        """(first_token_ms, last_token_ms) of each relay agent line that answered the callee:
        from the callee's prompt sent to the line's first and last token received."""
        return [
            (int(event.data["first_token_ms"]), int(event.data["last_token_ms"]))
            for event in self.events
            if event.kind is EventKind.SAY
            and "first_token_ms" in event.data
            and "last_token_ms" in event.data
        ]


# Called for every event as it happens, e.g. to print a call live in a terminal.
Observer = Callable[[CallTranscript, CallEvent], None]
