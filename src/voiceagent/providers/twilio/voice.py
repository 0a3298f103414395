"""Real telephony through the official `twilio` SDK, its HTTP done by httpx.

The SDK's own async client needs aiohttp; a small `AsyncHttpClient` over httpx keeps one HTTP
stack in the service. `client.api.base_url` is set after construction: the SDK has no base-URL
argument, and TWILIO_API_BASE_URL points it at an emulator or a regional edge.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import httpx
from twilio.base import values
from twilio.base.exceptions import TwilioException
from twilio.http import AsyncHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from voiceagent.errors import TelephonyError
from voiceagent.providers.base import OutboundCall

STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]


class HttpxTwilioClient(AsyncHttpClient):  # type: ignore[misc]
    def __init__(self, timeout: float = 10.0) -> None:
        super().__init__(logging.getLogger("twilio.http_client"), is_async=True, timeout=timeout)
        self._client = httpx.AsyncClient(timeout=timeout)

    async def request(
        self,
        method: str,
        uri: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        response = await self._client.request(
            method.upper(),
            uri,
            params=params,  # type: ignore[arg-type]
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
            follow_redirects=allow_redirects,
        )
        return Response(response.status_code, response.text, response.headers)

    async def close(self) -> None:
        await self._client.aclose()


class TwilioTelephony:
    name = "twilio"

    def __init__(self, *, account_sid: str, auth_token: str, api_base_url: str) -> None:
        self._http = HttpxTwilioClient()
        self._client = Client(account_sid, auth_token, http_client=self._http)
        self._client.api.base_url = api_base_url.rstrip("/")
        self._validator = RequestValidator(auth_token)

    async def place_call(self, call: OutboundCall) -> str:
        try:
            created: Any = await self._client.calls.create_async(
                to=call.to,
                from_=call.from_,
                url=call.url,
                method="POST",
                status_callback=call.status_callback,
                status_callback_method="POST",
                status_callback_event=STATUS_EVENTS,
                fallback_url=call.fallback_url or values.unset,
                fallback_method="POST",
            )
        except (TwilioException, httpx.HTTPError) as exc:
            raise TelephonyError(f"Twilio refused the call: {exc}") from exc
        return str(created.sid)

    def verify_signature(self, url: str, params: Mapping[str, str], signature: str) -> bool:
        return bool(self._validator.validate(url, dict(params), signature))

    async def hang_up(self, sid: str) -> None:
        try:
            await self._client.calls(sid).update_async(status="completed")
        except (TwilioException, httpx.HTTPError) as exc:
            raise TelephonyError(f"Twilio refused to hang up {sid}: {exc}") from exc

    async def aclose(self) -> None:
        await self._http.close()
