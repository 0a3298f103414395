"""The language provider that needs no model: the agent's lines come from the sales script.

Phrasings are picked from a hash of (call_id, turn, part), so a call replays word for word, while
different calls and turns sound different. The history steers the pick away from sentences the
agent has already said, so a re-ask or a second "still there?" never sounds like a recording.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator, Mapping, Sequence

from voiceagent.funnel.states import Act, EndReason, Line, Outcome, State
from voiceagent.providers.base import LineRequest
from voiceagent.script.model import (
    CALLBACK_PLACEHOLDER,
    EMAIL_PLACEHOLDER,
    MEETING_PLACEHOLDER,
    Acknowledgement,
    SalesScript,
    fact_names,
)

# Parts that move the funnel forward: after a caller's answer they start with "Got it."
_FORWARD = frozenset({Line.ASK_QUESTION, Line.PITCH, Line.ASK_CLOSE})
_LEAD_VALUE_CHARS = 60
_UNSAFE = re.compile(r"[{}<>\"\n\r]")  # template, markup and prompt-quoting syntax
_SPACES = re.compile(r"\s+")


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'])")


def sentences(text: str) -> list[str]:
    """Split a line at its sentence ends (the script's lines are plain, well-punctuated)."""
    return [part for part in _SENTENCE_END.split(text.strip()) if part]


class ScriptedLanguage:
    """Writes each line from the script's phrasings; deterministic and always available."""

    def __init__(self, script: SalesScript) -> None:
        self.script = script

    async def stream_line(self, request: LineRequest) -> AsyncIterator[str]:
        # Sentence by sentence, like a model: each sentence's audio is cached on its own.
        for sentence in sentences(self.compose(request)):
            yield sentence

    async def stream_pieces(self, request: LineRequest) -> AsyncIterator[str]:
        """The whole line as one piece: the script's words are known at once."""
        yield self.compose(request)

    def speaks_fixed(self, request: LineRequest) -> bool:
        return True

    async def write_line(self, request: LineRequest) -> str:
        return self.compose(request)

    def compose(self, request: LineRequest) -> str:
        """The full line for `request`: its parts in order, one to three sentences each."""
        said = [u.text for u in request.history if u.role == "agent"]
        composer = _Composer(self.script, request, said)
        parts: list[str] = []
        for slot, line in enumerate(request.lines):
            # The opening already asks for the caller's time; asking twice sounds scripted.
            if line is Line.ASK_TIME and Line.OPENING in request.lines[:slot]:
                continue
            parts.append(composer.part(line, slot))
        if parts and request.lines and self._acknowledge(request):
            parts.insert(0, composer.acknowledgement())
        return _SPACES.sub(" ", " ".join(p for p in parts if p)).strip()

    @staticmethod
    def _acknowledge(request: LineRequest) -> bool:
        if not request.caller_text.strip() or request.reask:
            return False
        # New facts are repeated back before whatever comes next (an answer, the pitch...).
        return request.lines[0] in _FORWARD or (
            bool(request.new_facts) and request.lines[0] is not Line.GOODBYE
        )


class _Composer:
    """One line's worth of choices; holds what they all share (request, values, history)."""

    def __init__(self, script: SalesScript, request: LineRequest, said: Sequence[str]) -> None:
        self.script = script
        self.request = request
        self.last = said[-1] if said else ""
        self.said_before = " ".join(said)
        self.values = script_values(script, request.lead)

    def part(self, line: Line, slot: int) -> str:
        s, r = self.script, self.request
        key = f"{line.value}.{slot}"
        if line is Line.OPENING:
            greetings = s.opening.with_ai if s.disclose_ai_in_opening else s.opening.without_ai
            return self.join(
                self.pick(greetings, key + ".greet"),
                self.pick(s.opt_out, key + ".optout"),
                self.pick(s.ask_time, key + ".time"),
            )
        if line is Line.REINTRODUCE:
            intro = s.reintroduce.with_ai if s.disclose_ai_in_opening else s.reintroduce.without_ai
            return self.pick(intro, key)
        if line is Line.ASK_TIME:
            return self.pick(s.ask_time, key)
        if line is Line.ASK_QUESTION:
            index = min(max(r.question_index, 0), len(s.qualifying_questions) - 1)
            question = s.qualifying_questions[index]
            # Asked once already (before a disclosure or an objection): the shorter way, now.
            again = r.reask or any(self.render(a) in self.said_before for a in question.ask)
            return self.pick(question.reask if again and question.reask else question.ask, key)
        if line is Line.PITCH:
            return self.pitch(key)
        if line is Line.ASK_INTEREST:
            return self.pick(s.ask_interest, key)
        if line is Line.HANDLE_OBJECTION:
            return self.pick(self.objection_answers(), key)
        if line is Line.ANSWER_QUESTION:
            return self.pick(faq_answers(s, r.act), key)
        if line is Line.ASK_CALLBACK_TIME:
            return self.pick(s.callback.ask_time, key)
        if line is Line.CONFIRM_CALLBACK:
            return self.pick(s.callback.confirm, key, {CALLBACK_PLACEHOLDER: r.time_heard})
        if line is Line.CONFIRM_MEETING:
            return self.pick(s.close.confirm_time, key, {MEETING_PLACEHOLDER: r.time_heard})
        if line is Line.ASK_EMAIL:
            return self.pick(s.follow_up.ask_email, key)
        if line is Line.CONFIRM_EMAIL:
            return self.pick(s.follow_up.confirm, key, {EMAIL_PLACEHOLDER: r.email})
        if line is Line.CALM:
            return self.pick(s.calm, key)
        if line is Line.OTHER_LANGUAGE:
            return s.other_language.get(r.language) or s.other_language["en"]
        if line is Line.ASK_CLOSE:
            return self.pick(s.close.ask, key)
        if line is Line.DISCLOSE_AI:
            return self.pick(s.ai_disclosure, key)
        if line is Line.CHECK_PRESENCE:
            return self.pick(s.still_there, key)
        if line is Line.TRANSFER:
            return s.transfer
        if line is Line.CANNOT_TRANSFER:
            return self.pick(s.cannot_transfer, key)
        return self.pick(self.goodbyes(r.end_reason, r.outcome), key)

    def pitch(self, key: str) -> str:
        points = self.script.pitch.points
        # A re-ask keeps it short; otherwise two points, never the same one twice in one line.
        first = self.pick(points, key + ".p1")
        chosen = [first]
        if not self.request.reask and len(points) > 1:
            rest = [p for p in points if self.render(p) != first]
            chosen.append(self.pick(rest, key + ".p2"))
        return self.join(self.pick(self.script.pitch.lead_in, key + ".lead"), *chosen)

    def objection_answers(self) -> list[str]:
        return objection_answers(self.script, self.request.act, self.request.state)

    def acknowledgement(self) -> str:
        """The caller's own facts said back, or a plain "Got it." when they gave none."""
        facts = self.request.facts
        new = set(self.request.new_facts)
        usable = [
            ack
            for ack in self.script.acknowledge_facts
            if _fits(ack, facts) and new & {n for t in ack.say for n in fact_names(t)}
        ]
        if not usable:
            return self.pick(self.script.acknowledgements, "ack")
        best = max(usable, key=lambda ack: len(set(fact_names(ack.say[0]))))
        return _capitalised(self.pick(best.say, "ack.facts", dict(facts)))

    def goodbyes(self, reason: EndReason | None, outcome: Outcome | None) -> list[str]:
        g = self.script.goodbyes
        by_reason = {
            EndReason.NOT_INTERESTED: g.not_interested,
            EndReason.CALLER_DNC: g.caller_dnc,
            EndReason.SILENCE_TIMEOUT: g.silence_timeout,
            EndReason.HANDOFF_UNCONFIGURED: g.handoff_unconfigured,
            EndReason.TURN_LIMIT: g.turn_limit,
            EndReason.LLM_ERROR: g.llm_fallback,
            EndReason.VOICEMAIL: g.voicemail or g.other,
            EndReason.CALLBACK_REQUESTED: g.callback_requested,
            EndReason.WRONG_NUMBER: g.wrong_number,
        }
        if reason is EndReason.CALLBACK_REQUESTED and not self.request.time_heard:
            return self.script.callback.no_time
        if reason in by_reason:
            return by_reason[reason]
        if outcome is Outcome.FOLLOW_UP:
            return g.follow_up
        if outcome is Outcome.CONVERTED:
            return g.converted
        if outcome is Outcome.DECLINED or reason is EndReason.COMPLETED:
            return g.declined
        return g.other

    def pick(
        self, templates: Sequence[str], key: str, extra: Mapping[str, str] | None = None
    ) -> str:
        """One rendered phrasing: unsaid in this call if possible, never the agent's last line."""
        rendered = [self.render(t, extra) for t in templates]
        start = _stable_index(f"{self.request.call_id}|{self.request.turn}|{key}", len(rendered))
        ordered = rendered[start:] + rendered[:start]
        for text in ordered:
            if text not in self.said_before:
                return text
        for text in ordered:
            if text not in self.last:
                return text
        return ordered[0]

    def render(self, template: str, extra: Mapping[str, str] | None = None) -> str:
        if not extra:
            return template.format_map(self.values)
        # Facts come from what the caller said: as speakable and inert as lead fields.
        return template.format_map({**self.values, **{k: _speakable(v) for k, v in extra.items()}})

    @staticmethod
    def join(*sentences: str) -> str:
        return " ".join(sentences)


def script_values(script: SalesScript, lead: Mapping[str, str]) -> dict[str, str]:
    """The values the script's {placeholders} stand for, lead fields made safe to quote."""
    name = _lead_value(lead, "first_name") or _lead_value(lead, "name")
    return {
        "agent_name": script.agent_name,
        "company": script.company,
        "product": script.product.name,
        "description": script.product.description,
        "offer": script.close.offer,
        "lead_name": name or script.lead_name_fallback,
        "lead_company": _lead_value(lead, "company") or script.lead_company_fallback,
    }


def _lead_value(lead: Mapping[str, str], field: str) -> str:
    # Lead fields arrive from the API: keep them speakable and free of template or markup syntax.
    value = lead.get(field)
    if not isinstance(value, str):
        return ""
    return _speakable(value)


def _speakable(value: str) -> str:
    return _SPACES.sub(" ", _UNSAFE.sub("", value)).strip()[:_LEAD_VALUE_CHARS]


def faq_answers(script: SalesScript, act: Act) -> list[str]:
    """The script's answers to the question `act` asks (how it works, when the topic is unknown)."""
    faq = script.faq
    by_topic = {
        Act.QUESTION_PRICE: faq.price,
        Act.QUESTION_HOW_IT_WORKS: faq.how_it_works,
        Act.QUESTION_WHO_IS_CALLING: faq.who_is_calling,
        Act.QUESTION_WHY_ME: faq.why_me,
        Act.QUESTION_RECORDED: faq.recorded,
    }
    return by_topic.get(act, faq.how_it_works)


def objection_answers(script: SalesScript, act: Act, state: State) -> list[str]:
    """The script's answers to the objection `act` names; a plain "no" gets the general ones."""
    answers = script.objections
    by_kind = {
        Act.OBJECTION_HAS_PROVIDER: answers.has_provider,
        Act.OBJECTION_NO_BUDGET: answers.no_budget,
        Act.OBJECTION_NOT_DECISION_MAKER: answers.not_decision_maker,
    }
    plain = answers.at_opening if state is State.INTRO else answers.other
    return by_kind.get(act, plain)


def _fits(ack: Acknowledgement, facts: Mapping[str, str]) -> bool:
    named = {name for text in ack.say for name in fact_names(text)}
    if not named <= facts.keys():
        return False
    return all(facts.get(name) in values for name, values in ack.when.items())


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _stable_index(seed: str, size: int) -> int:
    # Python's hash() is salted per process; a replayed call must pick the same words.
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % size
