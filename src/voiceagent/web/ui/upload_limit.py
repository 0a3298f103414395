"""The dashboard's upload cap: a file over it is answered with the page, not a raw JSON 413.

The app-wide body limit (64 KB) answers JSON for API clients. The do-not-call import form posts a
file of up to `dnc.MAX_IMPORT_BYTES`; this middleware sits in front of the body limit on that
one path, allows the file plus room for the form around it, and sends a browser that posts more
back to the list page with a message (303), whether the size is declared or only found while the
body streams in.
"""

from __future__ import annotations

import contextlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

FORM_MARGIN = 64 * 1024  # the multipart boundaries, headers and CSRF field around the file
_DRAIN_LIMIT = 32 * 1024 * 1024  # past this much, the upload is cut off rather than read


class UploadLimit:
    def __init__(self, app: ASGIApp, *, path: str, limit: int, refused_url: str) -> None:
        self.app, self.path, self.limit, self.refused_url = app, path, limit, refused_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") != self.path:
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length", b"0")
        if declared.isdigit() and (len(declared) > 18 or int(declared) > self.limit):
            await self._refuse(receive, send)
            return
        seen, tripped, started = 0, False, False

        async def counted() -> Message:
            nonlocal seen, tripped
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    tripped = True
                    raise _TooLarge
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if tripped:
                return  # the app's answer to a body cut short (FastAPI makes it a 400) is ours
            started = started or message["type"] == "http.response.start"
            await send(message)

        with contextlib.suppress(_TooLarge):
            await self.app(scope, counted, tracked)
        if tripped and not started:
            await self._refuse(receive, send)

    async def _refuse(self, receive: Receive, send: Send) -> None:
        # Read what the browser is still sending (up to a bound) before answering: a server
        # that answers and closes mid-upload shows the user a reset connection, not the page.
        drained = 0
        while drained <= _DRAIN_LIMIT:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client has gone
            drained += len(message.get("body", b""))
            if not message.get("more_body", False):
                break
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [
                    (b"location", self.refused_url.encode()),
                    (b"content-length", b"0"),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})


class _TooLarge(Exception):
    pass
