"""Choosing one intent when an utterance carries several (SPEC, "Caller intents").

"No, I'm not interested, and take me off your list" is a do-not-call; "are you a robot? let me
talk to a person" is a human request. The safety intents always win over the funnel ones, and
among themselves follow `INTENT_PRECEDENCE`. Between the funnel intents precedence says little
("yeah no" vs "no, yeah, go ahead"): the learned model reads those from the whole utterance.
"""

from __future__ import annotations

from collections.abc import Iterable

from voiceagent.funnel.states import INTENT_PRECEDENCE, Intent

_RANK = {intent: rank for rank, intent in enumerate(INTENT_PRECEDENCE)}


def highest(intents: Iterable[Intent]) -> Intent | None:
    """The intent that wins by `INTENT_PRECEDENCE`, or None when there is none."""
    return min(intents, key=_RANK.__getitem__, default=None)
