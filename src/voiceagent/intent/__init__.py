"""Understanding the caller: the local classifier (a learned model with high-precision safety
rules over it), the optional model classifier, intent precedence, and the facts in a reply."""

from voiceagent.intent.local import LocalClassifier

__all__ = ["LocalClassifier"]
