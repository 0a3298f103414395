"""TwiML as the simulated carrier reads it: the verbs an outbound sales call uses, as plain data.

Anything Twilio would refuse (a root other than <Response>, an unknown verb, a bad number) raises
`TwimlError`, which the carrier treats the way Twilio does: "an application error has occurred".
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import urlsplit


class TwimlError(ValueError):
    """The document is not TwiML that Twilio would execute."""


@dataclass(frozen=True, slots=True)
class Say:
    text: str


@dataclass(frozen=True, slots=True)
class Play:
    url: str


@dataclass(frozen=True, slots=True)
class Pause:
    length: float = 1.0


Prompt = Say | Play | Pause


@dataclass(frozen=True, slots=True)
class Gather:
    action: str | None  # None: Twilio posts back to the document's own URL
    method: str
    timeout: float
    action_on_empty_result: bool
    speech: bool  # False when `input` leaves out speech: spoken replies are then never heard
    prompts: tuple[Prompt, ...]


@dataclass(frozen=True, slots=True)
class Dial:
    number: str
    action: str | None
    method: str


@dataclass(frozen=True, slots=True)
class Redirect:
    url: str
    method: str


@dataclass(frozen=True, slots=True)
class Hangup:
    pass


@dataclass(frozen=True, slots=True)
class Reject:
    pass


@dataclass(frozen=True, slots=True)
class ConversationRelay:
    url: str  # the WebSocket to open: wss://, or ws:// for a service on loopback
    welcome_greeting: str | None
    # Every attribute as written (camelCase), url and welcomeGreeting included.
    attributes: dict[str, str] = field(default_factory=dict, hash=False)
    # The <Parameter> children; they arrive in the setup message's customParameters.
    parameters: dict[str, str] = field(default_factory=dict, hash=False)
    # The <Language> children's attributes, in order.
    languages: tuple[dict[str, str], ...] = field(default=(), hash=False)


@dataclass(frozen=True, slots=True)
class Connect:
    relay: ConversationRelay
    action: str | None  # fetched when the session ends; None: the document goes on
    method: str


Verb = Say | Play | Pause | Gather | Dial | Redirect | Hangup | Reject | Connect

# Twilio's own defaults (TwiML reference), so a document that omits them behaves as on Twilio.
GATHER_TIMEOUT_DEFAULT = 5.0
_METHODS = frozenset({"GET", "POST"})


def parse(document: bytes | str) -> tuple[Verb, ...]:
    """The verbs of a TwiML document, in order."""
    try:
        root = ET.fromstring(document)
    except ET.ParseError as exc:
        raise TwimlError(f"not XML: {exc}") from exc
    if root.tag != "Response":
        raise TwimlError(f"root element is <{root.tag}>, not <Response>")
    return tuple(_verb(element) for element in root)


def _verb(element: ET.Element) -> Verb:
    match element.tag:
        case "Say" | "Play" | "Pause":
            return _prompt(element)
        case "Gather":
            return _gather(element)
        case "Dial":
            return _dial(element)
        case "Redirect":
            return Redirect(url=_text(element), method=_method(element))
        case "Hangup":
            return Hangup()
        case "Reject":
            return Reject()
        case "Connect":
            return _connect(element)
        case other:
            raise TwimlError(f"<{other}> is not a verb the simulated carrier supports")


def _prompt(element: ET.Element) -> Prompt:
    if element.tag == "Say":
        # itertext keeps the words inside SSML children such as <prosody> or <break/>.
        return Say(text=" ".join("".join(element.itertext()).split()))
    if element.tag == "Play":
        return Play(url=_text(element))
    return Pause(length=_number(element, "length", 1.0))


def _gather(element: ET.Element) -> Gather:
    prompts: list[Prompt] = []
    for child in element:
        if child.tag not in {"Say", "Play", "Pause"}:
            raise TwimlError(f"<{child.tag}> is not allowed inside <Gather>")
        prompts.append(_prompt(child))
    inputs = element.get("input", "dtmf").split()
    return Gather(
        action=element.get("action") or None,
        method=_method(element),
        timeout=_number(element, "timeout", GATHER_TIMEOUT_DEFAULT),
        action_on_empty_result=element.get("actionOnEmptyResult", "false").lower() == "true",
        speech="speech" in inputs,
        prompts=tuple(prompts),
    )


def _dial(element: ET.Element) -> Dial:
    # The target is the Dial's own text or a nested noun (<Number>, <Client>, <Sip>, ...).
    number = (element.text or "").strip()
    if not number:
        nouns = [(child.text or "").strip() for child in element]
        number = next((noun for noun in nouns if noun), "")
    if not number:
        raise TwimlError("<Dial> has nothing to dial")
    return Dial(number=number, action=element.get("action") or None, method=_method(element))


def _connect(element: ET.Element) -> Connect:
    # <Connect> also takes <Stream>, <Room>, <VirtualAgent>...; only ConversationRelay is simulated.
    children = list(element)
    if len(children) != 1 or children[0].tag != "ConversationRelay":
        found = ", ".join(f"<{child.tag}>" for child in children) or "nothing"
        raise TwimlError(f"<Connect> must hold one <ConversationRelay>, not {found}")
    return Connect(
        relay=_conversation_relay(children[0]),
        action=element.get("action") or None,
        method=_method(element),
    )


def _conversation_relay(element: ET.Element) -> ConversationRelay:
    url = element.get("url", "").strip()
    scheme = urlsplit(url).scheme
    if scheme not in {"wss", "ws"} or not urlsplit(url).netloc:
        raise TwimlError(f"<ConversationRelay> url={url!r} is not a wss:// URL")
    parameters: dict[str, str] = {}
    languages: list[dict[str, str]] = []
    for child in element:
        if child.tag == "Parameter":
            name = child.get("name", "")
            if not name:
                raise TwimlError("<Parameter> inside <ConversationRelay> has no name")
            parameters[name] = child.get("value", "")
        elif child.tag == "Language":
            if not child.get("code"):
                raise TwimlError("<Language> inside <ConversationRelay> has no code")
            languages.append(dict(child.attrib))
        else:
            raise TwimlError(f"<{child.tag}> is not allowed inside <ConversationRelay>")
    return ConversationRelay(
        url=url,
        welcome_greeting=element.get("welcomeGreeting") or None,
        attributes=dict(element.attrib),
        parameters=parameters,
        languages=tuple(languages),
    )


def _method(element: ET.Element) -> str:
    method = element.get("method", "POST").upper()
    if method not in _METHODS:
        raise TwimlError(f"<{element.tag}> method={method!r} is neither GET nor POST")
    return method


def _number(element: ET.Element, name: str, default: float) -> float:
    raw = element.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise TwimlError(f"<{element.tag}> {name}={raw!r} is not a number") from None
    if value < 0:
        raise TwimlError(f"<{element.tag}> {name}={raw!r} is negative")
    return value


def _text(element: ET.Element) -> str:
    text = (element.text or "").strip()
    if not text:
        raise TwimlError(f"<{element.tag}> is empty")
    return text
