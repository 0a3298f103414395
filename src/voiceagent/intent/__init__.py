"""Caller-intent classification: the local rule-based classifier and intent precedence."""

from voiceagent.intent.local import LocalClassifier

__all__ = ["LocalClassifier"]
