"""A local server speaking Twilio's REST API for Calls.create, for the real `twilio` SDK to hit.

Accepted calls are played by the simulated carrier, signed with the account's auth token, so the
service under test runs its real-Twilio code path end to end on loopback.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from voiceagent.errors import CallNotFound
from voiceagent.providers.base import OutboundCall
from voiceagent.providers.simulated import CalleeDirectory, SimulatedCarrier


class TwilioRestEmulator:
    def __init__(self, directory: CalleeDirectory | None = None) -> None:
        self.account_sid = "AC" + secrets.token_hex(16)
        self.auth_token = secrets.token_hex(16)
        self.carrier = SimulatedCarrier(
            self.auth_token, directory=directory, account_sid=self.account_sid
        )
        self.requests: list[dict[str, Any]] = []
        self.app = Starlette(
            routes=[
                Route("/2010-04-01/Accounts/{account}/Calls.json", self._create, methods=["POST"]),
                Route(
                    "/2010-04-01/Accounts/{account}/Calls/{sid}.json",
                    self._update,
                    methods=["POST"],
                ),
            ]
        )

    def _authorised(self, request: Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return secrets.compare_digest(request.headers.get("authorization", ""), f"Basic {expected}")

    async def _update(self, request: Request) -> JSONResponse:
        """Calls(sid).update(status="completed"): hang a live call up."""
        form = await request.form()
        sid = request.path_params["sid"]
        self.requests.append({"path": request.url.path, "form": {k: form.getlist(k) for k in form}})
        if not self._authorised(request) or request.path_params["account"] != self.account_sid:
            return JSONResponse(
                {"code": 20003, "message": "Authenticate", "status": 401}, status_code=401
            )
        try:
            transcript = self.carrier.transcript(sid)
        except CallNotFound:
            return JSONResponse(
                {"code": 20404, "message": f"Call {sid} not found", "status": 404}, status_code=404
            )
        if form.get("Status") in ("completed", "canceled"):
            await self.carrier.hang_up(sid)
        return JSONResponse(
            {
                "sid": sid,
                "account_sid": self.account_sid,
                "to": transcript.to,
                "status": form.get("Status") or "in-progress",
                "api_version": "2010-04-01",
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{sid}.json",
            }
        )

    async def _create(self, request: Request) -> JSONResponse:
        form = await request.form()
        fields = {key: form.getlist(key) for key in form}
        self.requests.append({"path": request.url.path, "form": fields})
        if not self._authorised(request) or request.path_params["account"] != self.account_sid:
            return JSONResponse(
                {"code": 20003, "message": "Authenticate", "status": 401}, status_code=401
            )
        to = str(form.get("To", ""))
        if not to.startswith("+"):
            return JSONResponse(
                {"code": 21211, "message": f"The 'To' number {to} is not valid.", "status": 400},
                status_code=400,
            )
        sid = await self.carrier.place_call(
            OutboundCall(
                to=to,
                from_=str(form.get("From", "")),
                url=str(form.get("Url", "")),
                status_callback=str(form.get("StatusCallback", "")),
                fallback_url=str(form.get("FallbackUrl", "")) or None,
            )
        )
        return JSONResponse(
            {
                "sid": sid,
                "account_sid": self.account_sid,
                "to": to,
                "from": form.get("From"),
                "status": "queued",
                "direction": "outbound-api",
                "api_version": "2010-04-01",
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{sid}.json",
            },
            status_code=201,
        )
