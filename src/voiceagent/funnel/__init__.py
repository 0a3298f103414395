"""The sales funnel: a declared transition table and one pure `step()` function."""

from voiceagent.funnel.engine import (
    Answered,
    Decision,
    Event,
    Heard,
    Limits,
    Progress,
    Silence,
    Stopped,
    Then,
    TransitionNotAllowed,
    step,
)
from voiceagent.funnel.states import Act, Cause, EndReason, Intent, Line, Outcome, State

__all__ = [
    "Act",
    "Answered",
    "Cause",
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
    "Stopped",
    "Then",
    "TransitionNotAllowed",
    "step",
]
