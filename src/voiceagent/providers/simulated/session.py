"""One simulated call, played as Twilio plays it: ring, callbacks, fetch TwiML, obey, repeat."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Literal
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

from voiceagent.providers.base import OutboundCall
from voiceagent.providers.simulated import twiml
from voiceagent.providers.simulated.callees import HANG_UP, Callee, HangUp, Over
from voiceagent.providers.simulated.relay import RelayOutcome, RelaySession, Sign
from voiceagent.providers.simulated.transcript import (
    CallEvent,
    CallTranscript,
    EventData,
    EventKind,
    Observer,
)

log = logging.getLogger(__name__)

Send = Callable[[str, str, Mapping[str, str]], Awaitable[httpx.Response]]

# What Twilio says when a webhook fails and there is no fallback URL.
APPLICATION_ERROR = "We are sorry, an application error has occurred. Goodbye."
_TWIML_TYPES = frozenset({"text/xml", "application/xml", "text/html"})


def new_sid(prefix: str = "CA") -> str:
    return prefix + secrets.token_hex(16)


@dataclass(frozen=True, slots=True)
class CallLimits:
    max_round_trips: int = 60
    ring_seconds: float = 0.25
    realtime: bool = False  # sleep through pauses and silences instead of only counting them
    confidence: str = "0.92"
    # Share of voice webhooks sent twice at once, as when a Twilio retry races the original
    # (load tests); the call obeys the first answer. Drawn from a Random seeded per callee.
    duplicate_rate: float = 0.0
    seed: int = 0
    # ConversationRelay: the callee hangs up when the agent says nothing for this long (the
    # service's own silence timer should end the call well before); and after each agent line it
    # listens on this long, so an `end` or a further line sent straight after is heard first.
    relay_patience: float = 120.0
    relay_settle: float = 0.25


@dataclass(frozen=True, slots=True)
class _Request:
    method: str
    url: str
    extra: Mapping[str, str] = field(default_factory=dict)


class CallSession:
    def __init__(
        self,
        *,
        call: OutboundCall,
        transcript: CallTranscript,
        callee: Callee,
        send: Send,
        account_sid: str,
        limits: CallLimits,
        sign: Sign,
        observer: Observer | None = None,
    ) -> None:
        self._call = call
        self._sign = sign
        self.transcript = transcript
        self._callee = callee
        self._send = send
        self._account_sid = account_sid
        self._limits = limits
        self._observer = observer
        self._started = time.monotonic()
        self._simulated = 0.0  # seconds waited on the call's clock but not slept
        self._sequence = 0
        self._heard: list[str] = []
        self._failure_code: str | None = None
        self._dice = random.Random(f"{limits.seed}:{call.to}")
        self._hung_up = asyncio.Event()
        self._conversation: asyncio.Task[None] | None = None

    def hang_up(self) -> None:
        """The account ended the call (Twilio's REST update): it stops where it is."""
        self._hung_up.set()
        if self._conversation is not None:
            self._conversation.cancel()

    async def run(self) -> None:
        try:
            await self._run()
        except asyncio.CancelledError:
            if self.transcript.status is None:
                self.transcript.status = "canceled"
            raise

    async def _run(self) -> None:
        answers = self._callee.answers
        if answers == "failed":
            await self._finish("failed", duration=0)
            return
        await self._status("ringing")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._hung_up.wait(), self._limits.ring_seconds)
        if self._hung_up.is_set():
            await self._finish("canceled", duration=0)
            return
        if answers != "answer":
            await self._finish(answers, duration=0)
            return
        await self._status("in-progress")
        answered = self._clock()
        self._conversation = asyncio.create_task(self._converse())
        try:
            await self._conversation
        except asyncio.CancelledError:
            if not self._hung_up.is_set():
                raise  # the carrier itself is closing
            self.record(EventKind.HANGUP, "account")
        except Exception as exc:  # a carrier bug still ends the call with its final callback
            log.exception("simulated call %s failed", self.transcript.sid)
            self.error(f"simulated carrier failure: {exc!r}")
        await self._finish("completed", duration=round(self._clock() - answered))

    async def _converse(self) -> None:
        request: _Request | None = _Request("POST", self._call.url)
        while request is not None:
            if self.transcript.round_trips >= self._limits.max_round_trips:
                self.error(f"gave up after {self._limits.max_round_trips} webhook round trips")
                self.record(EventKind.HANGUP, "carrier")
                return
            verbs = await self._fetch(request)
            if verbs is None:
                # Twilio's FallbackUrl: the same parameters plus ErrorCode and ErrorUrl; only
                # when that fails too does the callee hear the application error.
                verbs = await self._fallback(request)
            if verbs is None:
                self._application_error()
                return
            request = await self._obey(verbs, request.url)

    async def _fallback(self, failed: _Request) -> tuple[twiml.Verb, ...] | None:
        fallback_url = self._call.fallback_url
        if not fallback_url or failed.url == fallback_url:
            return None
        code = self._failure_code or "11200"
        extra = {**failed.extra, "ErrorCode": code, "ErrorUrl": failed.url}
        self._failure_code = None
        return await self._fetch(_Request("POST", fallback_url, extra))

    async def _fetch(self, request: _Request) -> tuple[twiml.Verb, ...] | None:
        self.transcript.round_trips += 1
        params = {**self._params("in-progress"), **request.extra}
        duplicate = self._limits.duplicate_rate > 0 and (
            self._dice.random() < self._limits.duplicate_rate
        )
        try:
            if duplicate:
                first, echo = await asyncio.gather(
                    self._timed(request, params),
                    self._timed(request, params),
                    return_exceptions=True,
                )
                if isinstance(echo, BaseException):
                    self.error(f"duplicate {request.method} {request.url}: {echo!r}")
                else:
                    self._record_webhook(request, *echo, duplicate=True)
                if isinstance(first, BaseException):
                    raise first
                response, ms = first
            else:
                response, ms = await self._timed(request, params)
        except httpx.HTTPError as exc:
            self._failed(f"{request.method} {request.url}: {exc!r}", "11205")
            return None
        self._record_webhook(request, response, ms, duplicate=False)
        if response.status_code != 200:
            self._failed(f"{request.url} answered HTTP {response.status_code}", "11200")
            return None
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in _TWIML_TYPES:
            self._failed(f"{request.url} answered {content_type or 'no type'}", "12300")
            return None
        try:
            return twiml.parse(response.content)
        except twiml.TwimlError as exc:
            self._failed(f"{request.url}: invalid TwiML: {exc}", "12100")
            return None

    def _failed(self, message: str, code: str) -> None:
        self.error(message)
        self._failure_code = code  # Twilio's error code, for the FallbackUrl request

    async def _timed(
        self, request: _Request, params: Mapping[str, str]
    ) -> tuple[httpx.Response, int]:
        began = time.monotonic()
        response = await self._send(request.method, request.url, params)
        return response, _ms_since(began)

    def _record_webhook(
        self, request: _Request, response: httpx.Response, ms: int, *, duplicate: bool
    ) -> None:
        data: dict[str, str | int | float | bool] = {
            "method": request.method,
            "status_code": response.status_code,
            "ms": ms,
            "twiml": response.text,
        }
        if duplicate:
            data["duplicate"] = True
        self.record(EventKind.WEBHOOK, request.url, data)

    async def _obey(self, verbs: tuple[twiml.Verb, ...], document_url: str) -> _Request | None:
        """Run a document; return the next request to make, or None when the call is over."""
        for verb in verbs:
            match verb:
                case twiml.Say() | twiml.Play() | twiml.Pause():
                    await self._prompt(verb, document_url)
                case twiml.Gather():
                    result = await self._gather(verb, document_url)
                    if result is HANG_UP:
                        return None
                    if result is not None:
                        return result
                case twiml.Dial():
                    dial = self._dial(verb, document_url)
                    if dial is not None:
                        return dial
                case twiml.Connect():
                    connected = await self._connect(verb, document_url)
                    if connected is False:  # the caller hung up
                        return None
                    if connected is not None:
                        return connected
                    # With no action Twilio goes on with the document's next verb.
                case twiml.Redirect():
                    return _Request(verb.method, urljoin(document_url, verb.url))
                case twiml.Hangup() | twiml.Reject():
                    self.record(EventKind.HANGUP, "agent")
                    return None
        # Twilio hangs up when a document runs out of verbs.
        self.record(EventKind.HANGUP, "agent", {"end_of_document": True})
        return None

    async def _prompt(self, prompt: twiml.Prompt, document_url: str) -> None:
        match prompt:
            case twiml.Say():
                self.hear(EventKind.SAY, prompt.text, prompt.text, {})
            case twiml.Play():
                await self._play(urljoin(document_url, prompt.url))
            case twiml.Pause():
                self.record(EventKind.PAUSE, "", {"seconds": prompt.length})
                await self._wait(prompt.length)

    async def _play(self, url: str) -> None:
        # Twilio downloads the whole file before playing it; that download is part of the turn.
        began = time.monotonic()
        try:
            response = await self._send("GET", url, {})
        except httpx.HTTPError as exc:
            self.error(f"<Play> {url}: {exc!r}")
            return
        if response.status_code != 200:
            self.error(f"<Play> {url} answered HTTP {response.status_code}")
            return
        # Audio is opaque to a scripted callee; a `text` query parameter, when the app adds one,
        # says what the recording says.
        heard = parse_qs(urlsplit(url).query).get("text", ["[audio]"])[0]
        data: EventData = {
            "bytes": len(response.content),
            "ms": _ms_since(began),
            "content_type": response.headers.get("content-type", ""),
            "heard": heard,
        }
        self.hear(EventKind.PLAY, url, heard, data)

    async def _gather(self, gather: twiml.Gather, document_url: str) -> _Request | HangUp | None:
        for prompt in gather.prompts:
            await self._prompt(prompt, document_url)
        reply = await self._callee.reply(self.take_heard())
        if reply is HANG_UP:
            self.record(EventKind.HANGUP, "callee")
            return HANG_UP
        if isinstance(reply, Over):  # a <Gather> cannot be talked over: it is a plain reply
            reply = reply.text
        action = urljoin(document_url, gather.action or document_url)
        if reply is not None and reply.strip():
            self.record(EventKind.REPLY, reply, {"recognised": gather.speech})
            if gather.speech:
                speech = {"SpeechResult": reply, "Confidence": self._limits.confidence}
                return _Request(gather.method, action, speech)
        self.record(EventKind.SILENCE, "", {"seconds": gather.timeout})
        await self._wait(gather.timeout)
        # Without actionOnEmptyResult Twilio posts nothing and carries on with the next verb.
        return _Request(gather.method, action) if gather.action_on_empty_result else None

    async def _connect(
        self, connect: twiml.Connect, document_url: str
    ) -> _Request | Literal[False] | None:
        """Run a ConversationRelay session: the action request to make next, False when the
        call is over, None to go on with the document."""
        session = RelaySession(
            connect.relay,
            call=self,
            callee=self._callee,
            identity={
                "accountSid": self._account_sid,
                "callSid": self.transcript.sid,
                "from": self._call.from_,
                "to": self._call.to,
            },
            sign=self._sign,
            limits=self._limits,
        )
        try:
            outcome = await session.run()
        except asyncio.CancelledError:
            if self._hung_up.is_set():
                # The account hung up; the socket is closed. Twilio still reports the session.
                ended = self._connect_action(connect, document_url, session.ended_by_account())
                if ended is not None:
                    await self._fetch(ended)
            raise
        action = self._connect_action(connect, document_url, outcome)
        if outcome.call_over:
            if action is not None:  # the caller hung up: Twilio reports the session all the same
                await self._fetch(action)
            return False
        return action

    def _connect_action(
        self, connect: twiml.Connect, document_url: str, outcome: RelayOutcome
    ) -> _Request | None:
        if connect.action is None:
            return None
        return _Request(connect.method, urljoin(document_url, connect.action), outcome.params())

    def _dial(self, dial: twiml.Dial, document_url: str) -> _Request | None:
        self.transcript.dialled = dial.number
        self.record(EventKind.DIAL, dial.number)
        if dial.action is None:
            return None
        outcome = {"DialCallStatus": "completed", "DialCallSid": new_sid(), "DialCallDuration": "0"}
        return _Request(dial.method, urljoin(document_url, dial.action), outcome)

    async def _status(self, status: str, *, duration: int | None = None) -> None:
        params = {
            **self._params(status),
            "SequenceNumber": str(self._sequence),
            "Timestamp": format_datetime(datetime.now(UTC)),
            "CallbackSource": "call-progress-events",
        }
        if duration is not None:
            params["CallDuration"] = str(duration)
        self.record(EventKind.STATUS, status, {"sequence": self._sequence})
        self._sequence += 1
        url = self._call.status_callback
        if not url:  # like Twilio, no StatusCallback set means no callbacks sent
            return
        try:
            response = await self._send("POST", url, params)
        except httpx.HTTPError as exc:
            self.error(f"status callback {status}: {exc!r}")
            return
        if response.status_code >= 400:
            self.error(f"status callback {status} answered HTTP {response.status_code}")

    async def _finish(self, status: str, *, duration: int) -> None:
        await self._status(status, duration=duration)
        self.transcript.status = status

    def _params(self, status: str) -> dict[str, str]:
        return {
            "CallSid": self.transcript.sid,
            "AccountSid": self._account_sid,
            "From": self._call.from_,
            "To": self._call.to,
            "CallStatus": status,
            "Direction": "outbound-api",
            "ApiVersion": "2010-04-01",
        }

    def _application_error(self) -> None:
        self.hear(EventKind.SAY, APPLICATION_ERROR, APPLICATION_ERROR, {"by": "carrier"})
        self.record(EventKind.HANGUP, "carrier")

    def hear(self, kind: EventKind, text: str, heard: str, data: EventData) -> None:
        self._heard.append(heard)
        self.record(kind, text, data)

    def take_heard(self) -> tuple[str, ...]:
        """What the callee heard since its last reply; the next reply starts afresh."""
        heard, self._heard = tuple(self._heard), []
        return heard

    def error(self, message: str) -> None:
        self.transcript.errors.append(message)
        self.record(EventKind.ERROR, message)

    async def _wait(self, seconds: float) -> None:
        if self._limits.realtime:
            await asyncio.sleep(seconds)
        else:
            self._simulated += seconds

    def _clock(self) -> float:
        return time.monotonic() - self._started + self._simulated

    def record(self, kind: EventKind, text: str, data: EventData | None = None) -> None:
        event = CallEvent(kind=kind, text=text, at=round(self._clock(), 3), data=data or {})
        self.transcript.events.append(event)
        if self._observer is not None:
            try:
                self._observer(self.transcript, event)
            except Exception:  # a broken display must not break the call
                log.exception("simulated call observer failed")


def _ms_since(began: float) -> int:
    return round((time.monotonic() - began) * 1000)
