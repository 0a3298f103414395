"""Personas: scripted callees kept as YAML files, and the directory that maps numbers to callees.

A persona also states what the service should record once its call is over (`expect`), which is
what `voiceagent demo` checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from voiceagent.errors import ConfigError
from voiceagent.funnel.states import EndReason, Outcome
from voiceagent.providers.simulated.callees import AnswerMode, Callee, Over, ScriptedCallee

# The service's stored call statuses (SPEC "Spellings") that a finished call can be left in.
FinalStatus = Literal["completed", "transferred", "failed", "busy", "no_answer", "canceled"]

E164 = Annotated[str, StringConstraints(pattern=r"^\+[1-9]\d{7,14}$")]
DEFAULT_PERSONA = "eager_buyer"


class PersonaError(ConfigError):
    """A persona file is unreadable or invalid; the message names the file and the field."""


class Expectation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    status: FinalStatus
    end_reason: EndReason | None
    outcome: Outcome | None = None


ReplyText = Annotated[str, StringConstraints(min_length=1)]


class OverReply(BaseModel):
    """`- over: "Stop, take me off your list."`: said over the agent's line (a barge-in)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    over: ReplyText


class Persona(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
    number: E164
    description: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
    answers: AnswerMode = "answer"
    # One per <Gather>, in order; null is silence. When they run out the persona hangs up.
    # `{over: words}` talks over the agent's line instead of answering after it (ConversationRelay
    # interrupts that line; on <Gather> the words are an ordinary reply).
    replies: tuple[ReplyText | OverReply | None, ...] = ()
    expect: Expectation
    # Used instead of `expect` when the service has no HANDOFF_NUMBER to transfer to.
    expect_without_handoff: Expectation | None = None

    def callee(self) -> ScriptedCallee:
        """A fresh callee for one call (each call starts at the first reply)."""
        replies = [Over(r.over) if isinstance(r, OverReply) else r for r in self.replies]
        return ScriptedCallee(replies, answers=self.answers)

    def expectation(self, *, handoff_configured: bool) -> Expectation:
        if not handoff_configured and self.expect_without_handoff is not None:
            return self.expect_without_handoff
        return self.expect


def bundled_dir() -> Traversable:
    return resources.files(__package__ or __name__).joinpath("personas")


def load_persona(source: Traversable | Path) -> Persona:
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PersonaError(f"{source}: cannot read persona: {exc}") from exc
    try:
        return Persona.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '(file)'}: {error['msg']}"
            for error in exc.errors()
        )
        raise PersonaError(f"{source}: invalid persona: {problems}") from exc


def load_personas(directory: Traversable | Path | None = None) -> tuple[Persona, ...]:
    """Every `*.yaml` persona in `directory` (the bundled ones by default), by file name."""
    root = bundled_dir() if directory is None else directory
    files = sorted(
        (entry for entry in root.iterdir() if entry.name.endswith(".yaml")),
        key=lambda entry: entry.name,
    )
    personas = tuple(load_persona(entry) for entry in files)
    _reject_duplicates(root, (p.name for p in personas), "name")
    _reject_duplicates(root, (p.number for p in personas), "number")
    return personas


def _reject_duplicates(root: Traversable | Path, values: Iterable[str], field: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise PersonaError(f"{root}: two personas share the {field} {value!r}")
        seen.add(value)


class CalleeDirectory:
    """Who answers which number: registered callees first, then personas, else the fallback."""

    def __init__(self, personas: Sequence[Persona], *, fallback: str = DEFAULT_PERSONA) -> None:
        self.personas = tuple(personas)
        self._by_number = {persona.number: persona for persona in self.personas}
        self._fallback = self.persona(fallback)
        self._registered: dict[str, Callee] = {}

    @classmethod
    def bundled(cls) -> CalleeDirectory:
        return cls(load_personas())

    def persona(self, name: str) -> Persona:
        for persona in self.personas:
            if persona.name == name:
                return persona
        raise PersonaError(f"no persona named {name!r}")

    def register(self, number: str, callee: Callee) -> None:
        """Let `callee` (say, a person typing in a terminal) answer calls to `number`."""
        self._registered[number] = callee

    def unregister(self, number: str) -> None:
        self._registered.pop(number, None)

    def callee_for(self, number: str) -> Callee:
        registered = self._registered.get(number)
        if registered is not None:
            return registered
        return self._by_number.get(number, self._fallback).callee()
