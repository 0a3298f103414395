"""Who picks up the phone on the simulated carrier: the `Callee` protocol and a scripted callee."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Final, Literal, Protocol

# How the phone is answered; the spellings are the persona files' and Twilio's CallStatus values.
AnswerMode = Literal["answer", "busy", "no-answer", "failed"]


class HangUp(Enum):
    """The callee puts the phone down. A sentinel, so that silence (None) stays distinct."""

    HANG_UP = "hang_up"


HANG_UP: Final = HangUp.HANG_UP

Reply = str | None | HangUp


class Callee(Protocol):
    """The person at the other end of a simulated call."""

    @property
    def answers(self) -> AnswerMode: ...

    async def reply(self, heard: Sequence[str]) -> Reply:
        """Answer a <Gather>, given what the agent said since the last reply.

        A string is speech, None is silence for the whole Gather timeout, HANG_UP ends the call.
        """
        ...


class ScriptedCallee:
    """Replies from a fixed list, one per Gather; hangs up once the list runs out."""

    def __init__(self, replies: Sequence[str | None], *, answers: AnswerMode = "answer") -> None:
        self._replies = list(replies)
        self._next = 0
        self._answers: AnswerMode = answers

    @property
    def answers(self) -> AnswerMode:
        return self._answers

    async def reply(self, heard: Sequence[str]) -> Reply:
        if self._next >= len(self._replies):
            return HANG_UP
        self._next += 1
        return self._replies[self._next - 1]
