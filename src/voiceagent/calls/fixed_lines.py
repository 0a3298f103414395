"""The script's fixed lines: written from the script whatever the model, and voiced in advance.

The opening, the AI disclosure, the silence check, the goodbyes and the transfer lines are the
script's own words on every call (compliance wants them exact), so their sentences can be
synthesised once at start-up: those turns then answer from the cache with no TTS round trip.
"""

from __future__ import annotations

from voiceagent.funnel import EndReason, Line, Outcome, State
from voiceagent.funnel.table import PROMPT
from voiceagent.providers.base import LineRequest
from voiceagent.providers.scripted import ScriptedLanguage, sentences
from voiceagent.script.model import SalesScript

_ENDINGS: tuple[tuple[EndReason, Outcome | None], ...] = (
    (EndReason.COMPLETED, Outcome.CONVERTED),
    (EndReason.COMPLETED, Outcome.DECLINED),
    (EndReason.NOT_INTERESTED, None),
    (EndReason.CALLER_DNC, None),
    (EndReason.SILENCE_TIMEOUT, None),
    (EndReason.HANDOFF_UNCONFIGURED, None),
    (EndReason.TURN_LIMIT, None),
    (EndReason.LLM_ERROR, None),
)


def fixed_sentences(script: SalesScript, bridges: tuple[str, ...], samples: int = 48) -> list[str]:
    """Every sentence the fixed lines can say, found by composing them for many calls."""
    language = ScriptedLanguage(script)
    found: dict[str, None] = dict.fromkeys(bridges)
    for sample in range(samples):
        for request in _requests(script, f"warm-{sample}"):
            found.update(dict.fromkeys(sentences(language.compose(request))))
    return list(found)


def _requests(script: SalesScript, call_id: str) -> list[LineRequest]:
    requests = [LineRequest(call_id=call_id, turn=0, state=State.INTRO, lines=(Line.OPENING,))]
    for state, prompt in PROMPT.items():
        questions = len(script.qualifying_questions) if state is State.QUALIFY else 1
        for question in range(questions):
            for first in (Line.DISCLOSE_AI, Line.CHECK_PRESENCE):
                requests.append(
                    LineRequest(
                        call_id=call_id,
                        turn=1,
                        state=state,
                        lines=(first, prompt),
                        question_index=question,
                        reask=first is Line.CHECK_PRESENCE,
                    )
                )
    for reason, outcome in _ENDINGS:
        lines = (
            (Line.CANNOT_TRANSFER, Line.GOODBYE)
            if reason is EndReason.HANDOFF_UNCONFIGURED
            else (Line.GOODBYE,)
        )
        requests.append(
            LineRequest(
                call_id=call_id,
                turn=2,
                state=State.CLOSE,
                lines=lines,
                end_reason=reason,
                outcome=outcome,
            )
        )
    requests.append(
        LineRequest(
            call_id=call_id,
            turn=2,
            state=State.QUALIFY,
            lines=(Line.TRANSFER,),
            end_reason=EndReason.TRANSFERRED,
        )
    )
    return requests
