"""Limits on what a client may send: body size (413), the pace of `/call/start` (429) and of
wrong credentials (429 with a growing wait)."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field

from fastapi import HTTPException, Request, status
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 64 * 1024  # a webhook form or a call request is a few hundred bytes


class BodySizeLimit:
    """Refuse bodies over `limit` bytes with 413, whether or not Content-Length is sent."""

    def __init__(
        self, app: ASGIApp, limit: int = MAX_BODY_BYTES, per_path: dict[str, int] | None = None
    ) -> None:
        self.app, self.default = app, limit
        self.per_path = per_path or {}  # uploads, such as a do-not-call CSV, may be larger

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.per_path.get(scope.get("path", ""), self.default)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length", b"0")
        # More digits than any limit has is over it, and is never handed to int().
        if declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
            await self._refuse(send, limit)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except _TooLarge:
            if not started:
                await self._refuse(send, limit)

    async def _refuse(self, send: Send, limit: int) -> None:
        body = json.dumps({"detail": f"request body over {limit} bytes"}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status.HTTP_413_CONTENT_TOO_LARGE,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class RateLimiter:
    """A token bucket per client: `per_minute` calls, bursts up to the same number.

    Per process: with several instances behind a balancer each enforces its own share, which
    bounds a runaway client without a shared store.
    """

    per_minute: int
    buckets: dict[str, _Bucket] = field(default_factory=dict)

    def check(self, client: str, now: float | None = None) -> None:
        if self.per_minute <= 0:
            return
        now = time.monotonic() if now is None else now
        rate = self.per_minute / 60.0
        bucket = self.buckets.setdefault(client, _Bucket(float(self.per_minute), now))
        bucket.tokens = min(float(self.per_minute), bucket.tokens + (now - bucket.at) * rate)
        bucket.at = now
        if bucket.tokens < 1.0:
            retry = math.ceil((1.0 - bucket.tokens) / rate)
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                detail=f"too many calls started: at most {self.per_minute} a minute per client",
                headers={"Retry-After": str(retry)},
            )
        bucket.tokens -= 1.0
        if len(self.buckets) > 10_000:  # forget idle clients rather than grow without bound
            for key in [k for k, b in self.buckets.items() if now - b.at > 60][:5000]:
                del self.buckets[key]


def client_key(request: Request) -> str:
    """Who is calling: the peer address, never anything the client says about itself.

    A header such as Authorization costs nothing to vary, so keying on it gives every guess a
    fresh bucket. X-Forwarded-For is believed only from TRUSTED_PROXIES, by the middleware that
    `create_app` installs, which has already put the real client in `request.client`.
    """
    return "ip:" + (request.client.host if request.client else "unknown")


@dataclass
class _Failures:
    count: int
    at: float
    blocked_until: float = 0.0


@dataclass
class FailureThrottle:
    """Wrong tokens per client: `free` of them, then a wait that doubles with each one more.

    While a client waits every credential it sends is refused unchecked, the right one too, so
    guessing gains nothing. A success forgets its failures; so does `forget` seconds of quiet.
    Per process, like the rate limiter: N instances allow N times the guesses, still a handful.
    """

    free: int = 5
    first_wait: float = 1.0
    longest_wait: float = 900.0
    forget: float = 900.0
    clients: dict[str, _Failures] = field(default_factory=dict)

    def wait(self, client: str, now: float | None = None) -> int:
        """Seconds this client must wait before its next try (0: it may try now)."""
        now = time.monotonic() if now is None else now
        entry = self.clients.get(client)
        if entry is None or now >= entry.blocked_until:
            return 0
        return max(1, math.ceil(entry.blocked_until - now))

    def failed(self, client: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        entry = self.clients.get(client)
        if entry is None or now - entry.at > self.forget:
            entry = self.clients[client] = _Failures(0, now)
        entry.count, entry.at = entry.count + 1, now
        over = entry.count - self.free
        if over >= 0:
            entry.blocked_until = now + min(
                self.longest_wait, self.first_wait * 2.0 ** min(over, 30)
            )
        if len(self.clients) > 10_000:  # forget quiet clients rather than grow without bound
            for key in [k for k, e in self.clients.items() if now - e.at > self.forget][:5000]:
                del self.clients[key]

    def succeeded(self, client: str) -> None:
        self.clients.pop(client, None)


def too_many_failures(retry: int) -> HTTPException:
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS,
        detail=f"too many wrong tokens from this client: retry in {retry} s",
        headers={"Retry-After": str(retry)},
    )


def credential_wait(request: Request) -> int:
    """Seconds before this client may present a credential again (0: now)."""
    throttle: FailureThrottle = request.app.state.auth_failures
    return throttle.wait(client_key(request))


def note_credential(request: Request, *, ok: bool) -> None:
    throttle: FailureThrottle = request.app.state.auth_failures
    if ok:
        throttle.succeeded(client_key(request))
    else:
        throttle.failed(client_key(request))


def limit_call_starts(request: Request) -> None:
    limiter: RateLimiter = request.app.state.call_start_limiter
    limiter.check(client_key(request))
