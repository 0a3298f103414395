"""What the agent takes from one caller reply, beside its intent and act: the facts in it.

The classifier says what the reply means for the funnel; this module reads what it says: the
answers to the script's qualifying questions (by field name, remembered for the whole call), a
callback time in the callee's own time zone, an email address for a follow-up, the language of a
reply that is not English. All of it is local and synchronous, a few hundred microseconds, so it
runs on every turn inside the budget. The funnel gets only what it needs to decide (which
questions are answered, whether a time or an address is known); the line writer gets the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from voiceagent.funnel import Act, Heard, Intent, Progress, State
from voiceagent.funnel.engine import AWAIT_EMAIL, AWAIT_TIME
from voiceagent.intent.facts import (
    Count,
    extract_choice,
    extract_count,
    extract_email,
    spoken_count,
)
from voiceagent.intent.language import guess_language
from voiceagent.intent.when import Callback, callee_zone, parse_callback
from voiceagent.script.model import Question, SalesScript

MAX_TEXT_ANSWER_CHARS = 200
_EMAIL_FIELDS = ("email", "email_address")


@dataclass(frozen=True)
class Understood:
    """One reply, read: the funnel's event, and what the call should remember of it."""

    heard: Heard
    answers: dict[str, Any]  # every answer so far, this reply's included (stored on the call)
    new_fields: tuple[str, ...] = ()  # the fields this reply answered
    callback: Callback | None = None
    email: str = ""  # where a follow-up goes: heard now, or the lead's own address
    language: str = ""  # ISO code of a reply in another language
    facts: dict[str, str] = field(default_factory=dict)  # the answers as the agent says them


def understand(
    script: SalesScript,
    *,
    speech: str,
    intent: Intent,
    act: Act,
    progress: Progress,
    answers: Mapping[str, Any],
    lead: Mapping[str, Any],
    phone: str,
    now: datetime | None = None,
    doubtful: bool = False,
) -> Understood:
    known = dict(answers)
    pending = _pending_question(script, progress)
    new: list[str] = []
    for index, question in enumerate(script.qualifying_questions):
        value = _answer(question, speech, asked=index == pending, act=act, intent=intent)
        if value is not None and known.get(question.field) != value:
            known[question.field] = value
            new.append(question.field)
    callback = None
    # A time matters when asked to call later, when we asked for one, and with a yes at CLOSE.
    wants_time = act is Act.OBJECTION_CALL_LATER or progress.awaiting == AWAIT_TIME
    if wants_time or progress.state is State.CLOSE:
        callback = parse_callback(speech, now=now or datetime.now(UTC), zone=callee_zone(phone))
    email = ""
    if act is Act.OBJECTION_SEND_EMAIL or progress.awaiting == AWAIT_EMAIL:
        email = extract_email(speech) or lead_email(lead)
    language = (guess_language(speech) or "") if act is Act.OTHER_LANGUAGE else ""
    heard = Heard(
        intent,
        act,
        answered=answered_questions(script, known),
        time_heard=callback is not None,
        email_known=bool(email),
        doubtful=doubtful,
    )
    return Understood(
        heard=heard,
        answers=known,
        new_fields=tuple(new),
        callback=callback,
        email=email,
        language=language,
        facts=spoken_facts(script, known),
    )


def answered_questions(script: SalesScript, answers: Mapping[str, Any]) -> frozenset[int]:
    return frozenset(i for i, q in enumerate(script.qualifying_questions) if q.field in answers)


def spoken_facts(script: SalesScript, answers: Mapping[str, Any]) -> dict[str, str]:
    """The answers as the agent says them back: 40 -> "forty", "50-60" -> "fifty to sixty"."""
    spoken: dict[str, str] = {}
    for question in script.qualifying_questions:
        value = answers.get(question.field)
        if value is None:
            continue
        spoken[question.field] = _spoken_count(value) if question.kind == "count" else str(value)
    return spoken


def lead_email(lead: Mapping[str, Any]) -> str:
    for name in _EMAIL_FIELDS:
        value = lead.get(name)
        if isinstance(value, str) and (address := extract_email(value)):
            return address
    return ""


def _pending_question(script: SalesScript, progress: Progress) -> int | None:
    if progress.state is not State.QUALIFY:
        return None
    return min(progress.question, len(script.qualifying_questions) - 1)


def _answer(question: Question, speech: str, *, asked: bool, act: Act, intent: Intent) -> Any:
    """The reply's answer to `question`, or None. `asked`: it is the question just put."""
    if question.kind == "count":
        count = extract_count(speech, units=question.units, expected=asked)
        return _stored_count(count) if count is not None else None
    if question.kind == "choice":
        return extract_choice(speech, question.options)
    # Free text is only an answer to the question just asked, and only when it reads as one.
    if asked and act is Act.ANSWER and intent in (Intent.INTERESTED, Intent.NOT_INTERESTED):
        return speech.strip()[:MAX_TEXT_ANSWER_CHARS] or None
    return None


def _stored_count(count: Count) -> int | str:
    # A range stays a range: storing its middle would put words in the caller's mouth.
    return count.value if count.low == count.high else f"{count.low}-{count.high}"


def _spoken_count(value: Any) -> str:
    if isinstance(value, int):
        return spoken_count(Count(value, value, value, False, str(value)))
    low, _, high = str(value).partition("-")
    if low.isdigit() and high.isdigit():
        return spoken_count(Count((int(low) + int(high)) // 2, int(low), int(high), False, ""))
    return str(value)
