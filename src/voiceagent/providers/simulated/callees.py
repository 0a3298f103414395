"""Who picks up the phone on the simulated carrier: the `Callee` protocol and a scripted callee."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Final, Literal, Protocol, runtime_checkable

# How the phone is answered; the spellings are the persona files' and Twilio's CallStatus values.
AnswerMode = Literal["answer", "busy", "no-answer", "failed"]


class HangUp(Enum):
    """The callee puts the phone down. A sentinel, so that silence (None) stays distinct."""

    HANG_UP = "hang_up"


HANG_UP: Final = HangUp.HANG_UP


@dataclass(frozen=True, slots=True)
class Over:
    """Words said over the agent's line rather than after it: a barge-in.

    On ConversationRelay the carrier interrupts the agent's next line with them. A <Gather> cannot
    be talked over, so there they are an ordinary reply: one persona runs on both transports.
    """

    text: str


Reply = str | None | HangUp | Over


class Callee(Protocol):
    """The person at the other end of a simulated call."""

    @property
    def answers(self) -> AnswerMode: ...

    async def reply(self, heard: Sequence[str]) -> Reply:
        """Answer a <Gather> (or the agent's turn on ConversationRelay), given what the agent
        said since the last reply.

        A string is speech, None is silence for the whole Gather timeout, HANG_UP ends the call,
        `Over` is speech said over the agent's next line.
        """
        ...


@runtime_checkable
class Interjecting(Protocol):
    """A callee that knows in advance that its next reply is an `Over`.

    ConversationRelay then asks for that reply as soon as the agent's line begins and talks over
    that very line (the one the reply would otherwise follow). A callee without this, such as a
    person at a keyboard, returns `Over` after a line, and it is said over the agent's next one.
    """

    def interjects(self) -> bool: ...


class ScriptedCallee:
    """Replies from a fixed list, one per Gather; hangs up once the list runs out."""

    def __init__(
        self, replies: Sequence[str | Over | None], *, answers: AnswerMode = "answer"
    ) -> None:
        self._replies = list(replies)
        self._next = 0
        self._answers: AnswerMode = answers

    @property
    def answers(self) -> AnswerMode:
        return self._answers

    def interjects(self) -> bool:
        return self._next < len(self._replies) and isinstance(self._replies[self._next], Over)

    async def reply(self, heard: Sequence[str]) -> Reply:
        if self._next >= len(self._replies):
            return HANG_UP
        self._next += 1
        return self._replies[self._next - 1]
