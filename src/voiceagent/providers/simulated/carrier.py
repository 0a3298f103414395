"""The simulated carrier: Twilio's side of a call over real HTTP, for running without Twilio.

It signs every request with the auth token it was given, exactly as Twilio does, so the service's
webhooks run the same checks and the same code paths as they do behind real Twilio.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Mapping
from types import TracebackType

import httpx
from twilio.request_validator import RequestValidator

from voiceagent.errors import CallNotFound, TelephonyError
from voiceagent.providers.base import OutboundCall
from voiceagent.providers.simulated.personas import CalleeDirectory
from voiceagent.providers.simulated.session import CallLimits, CallSession, new_sid
from voiceagent.providers.simulated.transcript import CallTranscript, Observer

_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
# Twilio's limits on a webhook: 15 s in all, 10 s of it to connect.
WEBHOOK_TIMEOUT = httpx.Timeout(15.0, connect=10.0)


class SimulatedCarrier:
    """Implements `Telephony`; the callee on each call comes from `directory`."""

    name = "simulated"

    def __init__(
        self,
        auth_token: str,
        *,
        directory: CalleeDirectory | None = None,
        account_sid: str | None = None,
        observer: Observer | None = None,
        limits: CallLimits | None = None,
        timeout: httpx.Timeout = WEBHOOK_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.directory = directory if directory is not None else CalleeDirectory.bundled()
        self.account_sid = account_sid or new_sid("AC")
        self._validator = RequestValidator(auth_token)
        self._observer = observer
        self._limits = limits or CallLimits()
        self._client = httpx.AsyncClient(timeout=timeout, transport=transport)
        self._calls: dict[str, tuple[CallTranscript, asyncio.Task[None]]] = {}
        self._sessions: dict[str, CallSession] = {}
        self._closed = False

    async def place_call(self, call: OutboundCall) -> str:
        if self._closed:
            raise TelephonyError("the simulated carrier is closed")
        if not _E164.match(call.to):
            raise TelephonyError(f"the simulated carrier cannot dial {call.to!r}: not E.164")
        sid = new_sid()
        transcript = CallTranscript(sid=sid, to=call.to, from_=call.from_)
        session = CallSession(
            call=call,
            transcript=transcript,
            callee=self.directory.callee_for(call.to),
            send=self._send,
            account_sid=self.account_sid,
            limits=self._limits,
            sign=self._sign_without_parameters,
            observer=self._observer,
        )
        # The call runs on after we return, as a real one does once Twilio has queued it.
        task = asyncio.create_task(session.run(), name=f"simulated-call-{sid}")
        self._calls[sid] = (transcript, task)
        self._sessions[sid] = session
        task.add_done_callback(lambda _: self._sessions.pop(sid, None))
        return sid

    async def hang_up(self, sid: str) -> None:
        """As Twilio's `calls(sid).update(status="completed")`: the call ends at once."""
        if sid not in self._calls:
            raise TelephonyError(f"the simulated carrier has no call {sid}")
        session = self._sessions.get(sid)
        if session is not None:
            session.hang_up()

    def verify_signature(self, url: str, params: Mapping[str, str], signature: str) -> bool:
        return bool(self._validator.validate(url, dict(params), signature))

    def _sign_without_parameters(self, url: str) -> str:
        # A ConversationRelay upgrade is signed over the WebSocket URL with no parameters.
        return str(self._validator.compute_signature(url, {}))

    def transcript(self, sid: str) -> CallTranscript:
        """The call so far (or in full, once it is over)."""
        return self._entry(sid)[0]

    async def wait_for(self, sid: str, timeout: float | None = None) -> CallTranscript:
        """Wait until the call is over; TimeoutError if it is still live after `timeout` s."""
        transcript, task = self._entry(sid)
        # asyncio.wait, not wait_for: a waiter that gives up must not cancel the call itself.
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if not done:
            raise TimeoutError(f"simulated call {sid} still live after {timeout} s")
        return transcript

    async def aclose(self) -> None:
        """Hang up every live call and close the HTTP client."""
        self._closed = True
        tasks = [task for _, task in self._calls.values() if not task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._client.aclose()

    async def __aenter__(self) -> SimulatedCarrier:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _entry(self, sid: str) -> tuple[CallTranscript, asyncio.Task[None]]:
        try:
            return self._calls[sid]
        except KeyError:
            raise CallNotFound(f"no simulated call {sid}") from None

    async def _send(self, method: str, url: str, params: Mapping[str, str]) -> httpx.Response:
        """One signed request, as Twilio sends it: GET puts the parameters in the query string."""
        target = httpx.URL(url)
        form: dict[str, str] = {}
        if method == "GET":
            target = target.copy_merge_params(dict(params))
        else:
            form = dict(params)
        headers = {
            "X-Twilio-Signature": self._validator.compute_signature(str(target), form),
            "User-Agent": "TwilioProxy/1.1",
            # Twilio repeats this token when it retries, so a webhook can tell a retry apart.
            "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
        }
        try:
            return await self._client.request(method, target, data=form or None, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout):
            # Twilio's default retry policy: one more try when the connection could not be made.
            return await self._client.request(method, target, data=form or None, headers=headers)
