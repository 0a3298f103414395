"""One translation of the `openai` SDK's errors into ours: vendor types stop here."""

from __future__ import annotations

import openai

from voiceagent.errors import LanguageError, LanguageTimeout


def translate(exc: BaseException, *, what: str, seconds: float) -> LanguageError:
    """`what` names the model in the message ("language model", "intent model")."""
    if isinstance(exc, TimeoutError | openai.APITimeoutError):
        return LanguageTimeout(f"the {what} did not answer within {seconds:g} s")
    if isinstance(exc, openai.APIStatusError):
        return LanguageError(f"the {what} refused the request ({exc.status_code}): {exc}")
    if isinstance(exc, openai.APIConnectionError):
        return LanguageError(f"cannot reach the {what}: {exc}")
    if isinstance(exc, ValueError):
        return LanguageError(f"the {what} sent a malformed answer: {exc}")
    return LanguageError(f"the {what} failed: {exc}")
