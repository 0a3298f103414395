"""What a classifier returns, and the protocol every classifier implements.

They live with the classifiers rather than with the providers so that `intent` imports nothing
above it; `providers.base` re-exports both for the code that wires providers together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from voiceagent.funnel.states import Act, Intent


@dataclass(frozen=True, slots=True)
class Classification:
    intent: Intent
    reason: str  # the rule or model that decided, for logs and debugging
    act: Act = Act.NONE
    # The model's probability per intent and act label, for logs; empty when a rule decided alone.
    scores: Mapping[str, float] = field(default_factory=dict, compare=False)


class Classifier(Protocol):
    def classify(self, text: str) -> Classification: ...
