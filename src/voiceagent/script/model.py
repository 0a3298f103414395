"""The sales script: a YAML file a sales manager edits, validated before any call is placed.

A broken script must stop the service at start-up with one line a non-programmer can act on
(the file, the field, what is wrong), never half-way through a live call.
"""

from __future__ import annotations

import re
import string
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails

from voiceagent.errors import ScriptError

PLACEHOLDERS: frozenset[str] = frozenset(
    {"agent_name", "company", "product", "description", "offer", "lead_name", "lead_company"}
)
TRANSFER_LINE = "Transferring you now."  # SPEC: the exact words before <Dial>
MAX_PHRASE_CHARS = 300  # a spoken line, not an email
MAX_HINTS = 500  # Twilio Gather `hints` limits
MAX_HINT_CHARS = 100

# Facts the agent learns on the call, usable in the lines that repeat them back.
CALLBACK_PLACEHOLDER = "callback_time"
MEETING_PLACEHOLDER = "meeting_time"
EMAIL_PLACEHOLDER = "email"
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_YES_FIRST = re.compile(r"^\W*(?:yes|yeah|yep|sure)\b", re.IGNORECASE)
_AI_WORD = re.compile(r"\bAI\b")
_MARKUP = re.compile(r"[<>]")
_FORMATTER = string.Formatter()


def _placeholders(text: str, extra: frozenset[str] = frozenset()) -> list[str]:
    try:
        parsed = list(_FORMATTER.parse(text))
    except ValueError as exc:
        raise ValueError(f"unbalanced curly brace in {text!r}") from exc
    names: list[str] = []
    for literal, name, spec, conversion in parsed:
        # "{{" parses to a literal brace, which would be spoken as a stray symbol.
        if "{" in literal or "}" in literal:
            raise ValueError(f"stray curly brace in {text!r}")
        if name is None:
            continue
        if spec or conversion or name not in PLACEHOLDERS | extra:
            allowed = ", ".join("{" + p + "}" for p in sorted(PLACEHOLDERS | extra))
            raise ValueError(f"unknown placeholder {{{name}}}; use one of {allowed}")
        names.append(name)
    return names


def _check_template(text: str) -> str:
    if _MARKUP.search(text):
        raise ValueError("plain words only: no < or > (markup is not allowed)")
    _placeholders(text)
    return text


def _check_fact_template(text: str) -> str:
    # Which facts exist is known only once the whole script is read (`SalesScript._facts`).
    if _MARKUP.search(text):
        raise ValueError("plain words only: no < or > (markup is not allowed)")
    return text


def fact_names(text: str) -> list[str]:
    """The placeholders a template names, whatever they are."""
    return [name for _, name, _, _ in _FORMATTER.parse(text) if name]


def _check_plain(text: str) -> str:
    if _MARKUP.search(text) or "{" in text or "}" in text:
        raise ValueError("plain words only: no curly braces, < or >")
    return text


def _says_ai(text: str) -> str:
    if not _AI_WORD.search(text):
        raise ValueError('must plainly say it is an AI (include the word "AI")')
    return text


def _not_yes_first(text: str) -> str:
    # "Are you a real person?" - "Yes, I'm an AI" answers the wrong question first.
    if _YES_FIRST.search(text):
        raise ValueError('must not start with "Yes": say plainly what you are')
    return text


def _names_agent_and_company(text: str) -> str:
    names = _placeholders(text)
    if "agent_name" not in names or "company" not in names:
        raise ValueError("must name the agent and the business: use {agent_name} and {company}")
    return text


def _one_or_many(value: Any) -> Any:
    # A manager who writes a single line instead of a list should not be punished for it.
    return [value] if isinstance(value, str) else value


_Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Plain = Annotated[
    _Text, StringConstraints(max_length=MAX_PHRASE_CHARS), AfterValidator(_check_plain)
]
Template = Annotated[
    _Text, StringConstraints(max_length=MAX_PHRASE_CHARS), AfterValidator(_check_template)
]
AiTemplate = Annotated[Template, AfterValidator(_says_ai)]
FactTemplate = Annotated[
    _Text, StringConstraints(max_length=MAX_PHRASE_CHARS), AfterValidator(_check_fact_template)
]
Disclosure = Annotated[AiTemplate, AfterValidator(_not_yes_first)]
GreetingTemplate = Annotated[Template, AfterValidator(_names_agent_and_company)]
AiGreetingTemplate = Annotated[GreetingTemplate, AfterValidator(_says_ai)]
Term = Annotated[_Text, StringConstraints(max_length=MAX_HINT_CHARS), AfterValidator(_check_plain)]

Phrasings = Annotated[list[Template], BeforeValidator(_one_or_many), Field(min_length=1)]
AiPhrasings = Annotated[list[AiTemplate], BeforeValidator(_one_or_many), Field(min_length=1)]
Disclosures = Annotated[list[Disclosure], BeforeValidator(_one_or_many), Field(min_length=1)]
FactPhrasings = Annotated[list[FactTemplate], BeforeValidator(_one_or_many), Field(min_length=1)]
Greetings = Annotated[list[GreetingTemplate], BeforeValidator(_one_or_many), Field(min_length=1)]
AiGreetings = Annotated[
    list[AiGreetingTemplate], BeforeValidator(_one_or_many), Field(min_length=1)
]


class _Part(BaseModel):
    # Unknown keys are refused so a misspelt field name is reported, not silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Product(_Part):
    name: Plain
    description: Plain
    terms: Annotated[list[Term], BeforeValidator(_one_or_many)] = []


class Introduction(_Part):
    with_ai: AiGreetings
    without_ai: Greetings


class Reintroduction(_Part):
    with_ai: AiPhrasings
    without_ai: Phrasings


class Question(_Part):
    """A qualifying question; its answer is remembered under `field` and never asked again.

    `kind` says how the answer is read from what the caller says: `count` (a number, in digits or
    words, near one of `units` when the question wasn't the one asked), `choice` (one of
    `options`: a name and the words that mean it), or `text` (remembered, never read apart).
    """

    field: Annotated[str, StringConstraints(pattern=FIELD_NAME.pattern)]
    kind: Literal["count", "choice", "text"] = "text"
    units: Annotated[list[Term], BeforeValidator(_one_or_many)] = []
    options: dict[Plain, Annotated[list[Term], BeforeValidator(_one_or_many)]] = {}
    ask: Phrasings
    reask: Annotated[list[Template], BeforeValidator(_one_or_many)] = []

    @model_validator(mode="after")
    def _readable(self) -> Question:
        if self.kind == "choice" and not self.options:
            raise ValueError("a choice question needs options (a name and the words for it)")
        if self.kind == "count" and not self.units:
            raise ValueError('a count question needs units (the words it counts: "people")')
        return self


class Acknowledgement(_Part):
    """Said before the next line when the caller just gave facts: "Forty people on spreadsheets".

    Usable when every fact it names is known and `when` (a fact's value among those listed)
    holds; the one naming the most facts wins.
    """

    say: FactPhrasings
    when: dict[str, Annotated[list[Plain], BeforeValidator(_one_or_many)]] = {}


class Faq(_Part):
    """The script's answers to what callers ask; the agent says nothing else on these topics."""

    price: Phrasings
    how_it_works: Phrasings
    who_is_calling: Phrasings
    why_me: Phrasings  # why we called, and where the number came from
    recorded: Phrasings


class ObjectionAnswers(_Part):
    """One answer per kind of objection, said once per state; a second no ends the call."""

    has_provider: Phrasings
    no_budget: Phrasings
    not_decision_maker: Phrasings
    at_opening: Phrasings  # a plain "no" to "is now a good time?"
    other: Phrasings  # a plain "no" after the pitch


class Callback(_Part):
    ask_time: Phrasings  # no time heard yet: "when would be better?"
    confirm: FactPhrasings  # repeats the time: use {callback_time}
    # The goodbye when no time was named even after asking.
    no_time: Phrasings = ["No problem, I'll try you again another time. Goodbye."]


class FollowUp(_Part):
    ask_email: Phrasings  # no address known: "what's the best email?"
    confirm: FactPhrasings  # repeats the address: use {email}


class Pitch(_Part):
    lead_in: Phrasings
    points: Phrasings


class Close(_Part):
    offer: Plain
    ask: Phrasings
    # A yes that names a time ("Thursday afternoon works"): said back before the goodbye.
    confirm_time: FactPhrasings = ["Perfect, I've noted {meeting_time}."]


class Goodbyes(_Part):
    converted: Phrasings
    declined: Phrasings
    not_interested: Phrasings
    caller_dnc: Phrasings
    silence_timeout: Phrasings
    handoff_unconfigured: Phrasings
    turn_limit: Phrasings
    llm_fallback: Phrasings
    callback_requested: Phrasings
    follow_up: Phrasings
    wrong_number: Phrasings
    voicemail: Annotated[list[Template], BeforeValidator(_one_or_many)] = []
    other: Phrasings


class SalesScript(_Part):
    company: Plain
    agent_name: Plain
    product: Product
    disclose_ai_in_opening: bool = True
    lead_name_fallback: Plain = "there"
    lead_company_fallback: Plain = "your team"
    opening: Introduction
    opt_out: Phrasings
    ask_time: Phrasings
    reintroduce: Reintroduction
    qualifying_questions: Annotated[list[Question], Field(min_length=1)]
    pitch: Pitch
    ask_interest: Phrasings
    close: Close
    faq: Faq
    objections: ObjectionAnswers
    callback: Callback
    follow_up: FollowUp
    calm: Phrasings  # one calm line to a hostile caller, before the goodbye
    # One line in the caller's language, goodbye included, by ISO code; `en` for any other.
    other_language: dict[Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")], Plain]
    ai_disclosure: Disclosures
    still_there: Phrasings
    acknowledgements: Phrasings
    acknowledge_facts: list[Acknowledgement] = []
    transfer: Literal["Transferring you now."] = "Transferring you now."
    cannot_transfer: Phrasings
    goodbyes: Goodbyes

    @model_validator(mode="after")
    def _facts(self) -> SalesScript:
        fields = [q.field for q in self.qualifying_questions]
        if len(set(fields)) != len(fields):
            raise ValueError("qualifying_questions: each field name may be used once")
        known = frozenset(fields)
        for ack in self.acknowledge_facts:
            for text in ack.say:
                _placeholders(text, known)
            for name in ack.when:
                if name not in known:
                    raise ValueError(f"acknowledge_facts: when names an unknown field {name!r}")
        for text in self.callback.confirm:
            _placeholders(text, frozenset({CALLBACK_PLACEHOLDER}))
        for text in self.close.confirm_time:
            _placeholders(text, frozenset({MEETING_PLACEHOLDER}))
        for text in self.follow_up.confirm:
            _placeholders(text, frozenset({EMAIL_PLACEHOLDER}))
        if "en" not in self.other_language:
            raise ValueError("other_language: an `en` line is needed, for any other language")
        return self

    @property
    def question_count(self) -> int:
        return len(self.qualifying_questions)

    def hints(self) -> list[str]:
        """The script's own words, to bias the carrier's speech recognition (Gather `hints`)."""
        candidates = [self.company, self.product.name, self.agent_name, *self.product.terms]
        seen: set[str] = set()
        hints: list[str] = []
        for phrase in candidates:
            phrase = phrase.strip()[:MAX_HINT_CHARS]
            if phrase and phrase.lower() not in seen:
                seen.add(phrase.lower())
                hints.append(phrase)
        return hints[:MAX_HINTS]


_FRIENDLY = {
    "missing": "field required",
    "extra_forbidden": "unknown field (check the spelling)",
    "string_type": "must be text",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "list_type": "must be a list of phrasings",
    "model_type": "must be a section with named fields",
    "model_attributes_type": "must be a section with named fields",
    "literal_error": f"must be exactly {TRANSFER_LINE!r}",
}


def _describe(error: ErrorDetails) -> str:
    # Managers count list items from 1; pydantic counts from 0.
    path = ".".join(str(p + 1) if isinstance(p, int) else str(p) for p in error["loc"])
    kind = error["type"]
    if kind in _FRIENDLY:
        message = _FRIENDLY[kind]
    elif kind == "too_short":
        message = "must not be empty"
    elif kind == "value_error":
        message = str(error["ctx"]["error"]) if "ctx" in error else error["msg"]
    else:
        message = error["msg"][:1].lower() + error["msg"][1:]
    return f"{path}: {message}" if path else message


def parse_script(text: str, source: str = "script.yaml") -> SalesScript:
    """Validate a script's YAML text; `source` names the file in error messages."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ScriptError(f"{source}: YAML syntax error{where}: {problem}") from None
    if data is None:
        raise ScriptError(f"{source}: the file is empty")
    if not isinstance(data, dict):
        raise ScriptError(f"{source}: expected named fields (company:, agent_name:, ...)")
    try:
        return SalesScript.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ScriptError(f"{source}: {_describe(errors[0])}{more}") from None


def load_script(path: Path | None = None) -> SalesScript:
    """Load and validate the script at `path`, or the bundled example when None."""
    if path is None:
        bundled = resources.files("voiceagent.script").joinpath("example.yaml")
        return parse_script(bundled.read_text(encoding="utf-8"), "example.yaml")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScriptError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScriptError(f"{path}: cannot read the file ({exc})") from None
    return parse_script(text, str(path))
