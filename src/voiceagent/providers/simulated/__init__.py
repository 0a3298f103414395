"""The simulated carrier: Twilio's webhook protocol over real HTTP, with scripted or live callees.

It is the telephony the service uses when no Twilio credentials are set.
"""

from voiceagent.providers.simulated.callees import (
    HANG_UP,
    AnswerMode,
    Callee,
    HangUp,
    Interjecting,
    Over,
    Reply,
    ScriptedCallee,
)
from voiceagent.providers.simulated.carrier import SimulatedCarrier
from voiceagent.providers.simulated.personas import (
    CalleeDirectory,
    Expectation,
    Persona,
    PersonaError,
    load_persona,
    load_personas,
)
from voiceagent.providers.simulated.session import CallLimits
from voiceagent.providers.simulated.transcript import CallEvent, CallTranscript, EventKind, Observer

__all__ = [
    "HANG_UP",
    "AnswerMode",
    "CallEvent",
    "CallLimits",
    "CallTranscript",
    "Callee",
    "CalleeDirectory",
    "EventKind",
    "Expectation",
    "HangUp",
    "Interjecting",
    "Observer",
    "Over",
    "Persona",
    "PersonaError",
    "Reply",
    "ScriptedCallee",
    "SimulatedCarrier",
    "load_persona",
    "load_personas",
]
