"""One ConversationRelay session, played from Twilio's side over a real WebSocket.

Twilio opens the socket (signed), sends `setup`, speaks the welcome greeting, then turns the
caller's speech into `prompt` messages and the service's `text` tokens into speech, until the
service sends `end`, the caller hangs up or the socket drops. The callee here is the same `Callee`
that answers a <Gather>: asked for a reply after each whole agent line, or, for an `Over` reply,
while the agent is still speaking (then the carrier sends `interrupt` first).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from voiceagent.providers.simulated import twiml
from voiceagent.providers.simulated.callees import HANG_UP, Callee, Interjecting, Over, Reply
from voiceagent.providers.simulated.relay_messages import InvalidMessage, parse_message
from voiceagent.providers.simulated.transcript import CallTranscript, EventData, EventKind

if TYPE_CHECKING:
    from voiceagent.providers.simulated.session import CallLimits

# Twilio's error codes for a session that fails.
CONNECT_FAILED = "64102"  # the WebSocket URL could not be reached or refused the upgrade
SOCKET_ENDED = "64105"  # the service closed the socket during the call
INVALID_MESSAGE = "64107"  # a message that is not ConversationRelay's
MALFORMED_LIMIT = 10  # that many invalid messages in a row close the socket...
CLOSE_INVALID_DATA = 1007  # ...with this close code
CONNECT_TIMEOUT = 10.0  # seconds, as for a webhook's connection

SessionStatus = Literal["ended", "completed", "failed"]
# The X-Twilio-Signature of a URL signed with no parameters (the carrier's auth token).
Sign = Callable[[str], str]


class CallLine(Protocol):
    """What a relay session needs from the call it runs on (the carrier's `CallSession`)."""

    @property
    def transcript(self) -> CallTranscript: ...

    def record(self, kind: EventKind, text: str, data: EventData | None = None) -> None: ...

    def hear(self, kind: EventKind, text: str, heard: str, data: EventData) -> None: ...

    def error(self, message: str) -> None: ...

    def take_heard(self) -> tuple[str, ...]: ...


@dataclass(frozen=True, slots=True)
class RelayOutcome:
    """How a session ended: what the `<Connect action>` request reports."""

    session_id: str
    status: SessionStatus
    duration: int  # seconds
    handoff_data: str | None = None
    error_code: str | None = None
    error_message: str | None = None

    @property
    def call_over(self) -> bool:
        """The caller (or the account) hung up: the action's TwiML is not obeyed."""
        return self.status == "completed"

    def params(self) -> dict[str, str]:
        params = {
            "CallStatus": "completed" if self.call_over else "in-progress",
            "SessionId": self.session_id,
            "SessionStatus": self.status,
            "SessionDuration": str(self.duration),
        }
        if self.handoff_data is not None:
            params["HandoffData"] = self.handoff_data
        if self.error_code is not None:
            params["ErrorCode"] = self.error_code
            params["ErrorMessage"] = self.error_message or ""
        return params


@dataclass(slots=True)
class _Line:
    """The agent line being streamed: its tokens so far and when they came."""

    started: float
    prompt_at: float | None  # our prompt this line answers, if it is the first since one
    tokens: list[str]


class RelaySession:
    def __init__(
        self,
        relay: twiml.ConversationRelay,
        *,
        call: CallLine,
        callee: Callee,
        identity: Mapping[str, str],  # accountSid, callSid, from, to
        sign: Sign,
        limits: CallLimits,
    ) -> None:
        self._relay = relay
        self._call = call
        self._callee = callee
        self._identity = dict(identity)
        self._sign = sign
        self._limits = limits
        self.session_id = "VX" + secrets.token_hex(16)
        self._ws: ClientConnection | None = None
        self._opened = time.monotonic()
        self._send_lock = asyncio.Lock()
        self._line: _Line | None = None
        self._prompt_at: float | None = None
        self._lines_since_turn = 0
        self._progress = asyncio.Event()  # a line began or ended
        self._pending_over: str | None = None
        self._malformed = 0

    async def run(self) -> RelayOutcome:
        url = self._relay.url
        began = time.monotonic()
        try:
            ws = await connect(
                url,
                additional_headers={"X-Twilio-Signature": self._sign(url)},
                open_timeout=CONNECT_TIMEOUT,
                user_agent_header="Twilio.TmeWs/1.0",
            )
        except InvalidStatus as exc:
            code = exc.response.status_code
            return self._failed(CONNECT_FAILED, f"{url} refused the WebSocket upgrade: HTTP {code}")
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            return self._failed(CONNECT_FAILED, f"cannot open {url}: {exc!r}")
        self._ws = ws
        self._opened = time.monotonic()
        data: EventData = {"session_id": self.session_id, "ms": _ms(began, self._opened)}
        self._call.record(EventKind.CONNECT, url, data)
        try:
            return await self._converse_and_listen()
        finally:
            await ws.close()

    def ended_by_account(self) -> RelayOutcome:
        """The account hung the call up (Twilio's REST update) while the session ran."""
        return self._outcome("completed")

    async def _converse_and_listen(self) -> RelayOutcome:
        try:
            await self._send(self._setup())
        except ConnectionClosed:
            return self._failed(SOCKET_ENDED, "the service closed the WebSocket before setup")
        greeting = self._relay.welcome_greeting
        if greeting:
            data = {"relay": True, "welcome": True}
            self._call.hear(EventKind.SAY, greeting, greeting, data)
            await self._spoken()
        receiver = asyncio.create_task(self._receive(), name=f"relay-receive-{self.session_id}")
        caller = asyncio.create_task(self._converse(), name=f"relay-caller-{self.session_id}")
        try:
            await asyncio.wait({receiver, caller}, return_when=asyncio.FIRST_COMPLETED)
            if not receiver.done() and caller.result() is None:
                await asyncio.wait({receiver})  # the socket dropped under the caller
            outcome = receiver.result() if receiver.done() else caller.result()
            assert outcome is not None  # the receiver always says how the session ended
            return outcome
        finally:
            for task in (receiver, caller):
                task.cancel()
            await asyncio.gather(receiver, caller, return_exceptions=True)

    def _setup(self) -> dict[str, Any]:
        ids = self._identity
        return {
            "type": "setup",
            "sessionId": self.session_id,
            "accountSid": ids["accountSid"],
            "callSid": ids["callSid"],
            "from": ids["from"],
            "to": ids["to"],
            "forwardedFrom": "",
            "callerName": "",
            "direction": "outbound-api",
            "callType": "PSTN",
            "callStatus": "IN-PROGRESS",
            "customParameters": dict(self._relay.parameters),
        }

    # The caller's side: reply after each agent line (or stay quiet, or hang up).

    async def _converse(self) -> RelayOutcome | None:
        """The callee's turns; None when the socket closed under it (the receiver says why)."""
        try:
            if not await self._agent_done():  # a line the service sends at once is heard first
                return self._give_up()
            while True:
                reply = await self._callee.reply(self._call.take_heard())
                if reply is HANG_UP:
                    self._call.record(EventKind.HANGUP, "callee", {"relay": True})
                    return self._outcome("completed")
                if not self._take_turn():
                    return self._outcome("completed")
                self._lines_since_turn = 0
                if isinstance(reply, Over):
                    self._pending_over = reply.text  # said over the agent's next line
                elif reply is None or not reply.strip():
                    self._call.record(EventKind.SILENCE, "", {"relay": True})
                else:
                    await self._prompt(reply)
                if not await self._agent_done(need_line=True):
                    return self._give_up()
        except ConnectionClosed:
            return None

    async def _agent_done(self, *, need_line: bool = False) -> bool:
        """Wait until the agent has finished speaking (after a whole line, when `need_line`).

        The callee listens on for `relay_settle` s after a line, so that an `end` or another
        line the service sends straight after is heard before it answers. False when the agent
        said nothing for `relay_patience` s.
        """
        deadline = time.monotonic() + self._limits.relay_patience
        while True:
            while (need_line and self._lines_since_turn == 0) or self._line is not None:
                self._progress.clear()
                if not await self._progressed(within=deadline - time.monotonic()):
                    return False
            self._progress.clear()
            if not await self._progressed(within=self._limits.relay_settle):
                return True

    async def _progressed(self, *, within: float) -> bool:
        # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancellation that arrives
        # as the event is set, and the session's end would go unnoticed.
        try:
            async with asyncio.timeout(max(within, 0)):
                await self._progress.wait()
        except TimeoutError:
            return False
        return True

    def _give_up(self) -> RelayOutcome:
        patience = self._limits.relay_patience
        self._call.error(
            f"relay session {self.session_id}: the agent said nothing for {patience} s"
        )
        self._call.record(EventKind.HANGUP, "callee", {"relay": True, "gave_up": True})
        return self._outcome("completed")

    def _take_turn(self) -> bool:
        """Count a caller turn against the call's round trips, so a runaway session stops."""
        transcript = self._call.transcript
        if transcript.round_trips >= self._limits.max_round_trips:
            self._call.error(f"gave up after {self._limits.max_round_trips} round trips")
            self._call.record(EventKind.HANGUP, "carrier", {"relay": True})
            return False
        transcript.round_trips += 1
        return True

    async def _prompt(self, words: str, *, over: bool = False) -> None:
        self._lines_since_turn = 0
        await self._send({"type": "prompt", "voicePrompt": words, "lang": "en-US", "last": True})
        self._prompt_at = time.monotonic()
        data: dict[str, str | int | float | bool] = {"relay": True}
        if over:
            data["over"] = True
        self._call.record(EventKind.REPLY, words, data)

    # The service's side: every message it sends, as Twilio acts on it.

    async def _receive(self) -> RelayOutcome:
        assert self._ws is not None
        try:
            async for raw in self._ws:
                try:
                    message = parse_message(raw)
                except InvalidMessage as exc:
                    self._malformed += 1
                    self._call.error(
                        f"{INVALID_MESSAGE} invalid relay message ({exc}): {raw!r:.200}"
                    )
                    if self._malformed >= MALFORMED_LIMIT:
                        reason = f"{MALFORMED_LIMIT} invalid messages in a row"
                        await self._ws.close(CLOSE_INVALID_DATA, reason)
                        return self._failed(INVALID_MESSAGE, reason)
                    continue
                self._malformed = 0
                outcome = await self._handle(message)
                if outcome is not None:
                    return outcome
        except ConnectionClosed:
            pass
        self._close_line(unfinished=True)
        return self._failed(SOCKET_ENDED, "the service closed the WebSocket without sending end")

    async def _handle(self, message: dict[str, Any]) -> RelayOutcome | None:
        match message["type"]:
            case "text":
                return await self._text(message["token"], last=message.get("last", False))
            case "play":
                source = message["source"]
                loop = int(message.get("loop") or 1)
                data: EventData = {"relay": True, "heard": "[audio]", "loop": loop}
                self._call.hear(EventKind.PLAY, source, "[audio]", data)
            case "sendDigits":
                self._call.record(EventKind.DIGITS, message["digits"], {"relay": True})
            case "language":
                names = ("ttsLanguage", "transcriptionLanguage")
                said = " ".join(f"{name}={message[name]}" for name in names if name in message)
                self._call.record(EventKind.LANGUAGE, said, {"relay": True})
            case "end":
                self._close_line(unfinished=True)
                return self._outcome("ended", handoff_data=message.get("handoffData"))
        return None

    async def _text(self, token: str, *, last: bool) -> RelayOutcome | None:
        if self._line is None:
            self._line = _Line(started=time.monotonic(), prompt_at=self._prompt_at, tokens=[])
            self._prompt_at = None
            self._progress.set()
            self._line.tokens.append(token)
            barged = await self._barge_in()
            if isinstance(barged, RelayOutcome):
                return barged
        else:
            self._line.tokens.append(token)
        if last:
            self._close_line()
            await self._spoken()
        return None

    async def _spoken(self) -> None:
        """With `debug="speaker-events"`, Twilio says when the agent's speech has ended. The
        simulated callee hears a line the moment it has it, so it is said at once."""
        if "speaker-events" in self._relay.attributes.get("debug", "").split():
            with contextlib.suppress(ConnectionClosed):
                await self._send({"type": "info", "name": "agentSpeaking", "value": "off"})

    async def _barge_in(self) -> RelayOutcome | bool | None:
        """Talk over the line that just began, when the callee means to.

        Returns None when it does not, True when it did, an outcome when the callee hung up.
        """
        assert self._line is not None
        utterance = "".join(self._line.tokens)
        words = self._pending_over
        self._pending_over = None
        if words is None:
            if not (isinstance(self._callee, Interjecting) and self._callee.interjects()):
                return None
            reply: Reply = await self._callee.reply((*self._call.take_heard(), utterance))
            if reply is HANG_UP:
                self._call.record(EventKind.HANGUP, "callee", {"relay": True})
                return self._outcome("completed")
            if reply is None:
                return None
            if not self._take_turn():
                return self._outcome("completed")
            words = reply.text if isinstance(reply, Over) else reply
        line = self._line
        self._line = None
        spoken_ms = _ms(line.started, time.monotonic())
        await self._send(
            {
                "type": "interrupt",
                "utteranceUntilInterrupt": utterance,
                "durationUntilInterruptMs": spoken_ms,
            }
        )
        data: dict[str, str | int | float | bool] = {
            "relay": True,
            "interrupted": True,
            "heard": utterance,
            "tokens": len(line.tokens),
        }
        if line.prompt_at is not None:
            data["first_token_ms"] = _ms(line.prompt_at, line.started)
        self._call.record(EventKind.SAY, utterance, data)
        interrupt: EventData = {
            "relay": True,
            "duration_until_interrupt_ms": spoken_ms,
            "words": words,
        }
        self._call.record(EventKind.INTERRUPT, utterance, interrupt)
        await self._prompt(words, over=True)
        self._progress.set()
        return True

    def _close_line(self, *, unfinished: bool = False) -> None:
        line, self._line = self._line, None
        if line is None:
            return
        text = "".join(line.tokens)  # exactly as streamed: the tokens carry their own spaces
        if text:
            data: dict[str, str | int | float | bool] = {"relay": True, "tokens": len(line.tokens)}
            if line.prompt_at is not None:
                data["first_token_ms"] = _ms(line.prompt_at, line.started)
                data["last_token_ms"] = _ms(line.prompt_at, time.monotonic())
            if unfinished:
                data["unfinished"] = True  # no `last: true` came before the session ended
            self._call.hear(EventKind.SAY, text, text, data)
            self._lines_since_turn += 1
        self._progress.set()

    # Outcomes.

    def _failed(self, code: str, message: str) -> RelayOutcome:
        self._call.error(f"relay session {self.session_id} failed ({code}): {message}")
        return self._outcome("failed", error_code=code, error_message=message)

    def _outcome(
        self,
        status: SessionStatus,
        *,
        handoff_data: str | None = None,
        error_code: str | None = None,
        error_message: str | None = None,
    ) -> RelayOutcome:
        outcome = RelayOutcome(
            session_id=self.session_id,
            status=status,
            duration=round(time.monotonic() - self._opened) if self._ws is not None else 0,
            handoff_data=handoff_data,
            error_code=error_code,
            error_message=error_message,
        )
        data: dict[str, str | int | float | bool] = {
            "session_id": outcome.session_id,
            "duration": outcome.duration,
        }
        if handoff_data is not None:
            data["handoff_data"] = handoff_data
        if error_code is not None:
            data["error_code"] = error_code
        self._call.record(EventKind.SESSION, status, data)
        return outcome

    async def _send(self, message: Mapping[str, Any]) -> None:
        assert self._ws is not None
        async with self._send_lock:
            await self._ws.send(json.dumps(message))


def _ms(since: float, until: float) -> int:
    return max(0, round((until - since) * 1000))
