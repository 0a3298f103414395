"""The sales funnel: a declared transition table and one pure `step()` function."""

from voiceagent.funnel.engine import (
    Answered,
    Decision,
    Event,
    Heard,
    Limits,
    Progress,
    Silence,
    Then,
    TransitionNotAllowed,
    step,
)
from voiceagent.funnel.states import Act, EndReason, Intent, Line, Outcome, State

__all__ = [
    "Act",
    "Answered",
    "Decision",
    "EndReason",
    "Event",
    "Heard",
    "Intent",
    "Limits",
    "Line",
    "Outcome",
    "Progress",
    "Silence",
    "State",
    "Then",
    "TransitionNotAllowed",
    "step",
]
