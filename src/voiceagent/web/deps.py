"""FastAPI dependencies, declared once as `Annotated` aliases."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from voiceagent.calls.access import Revocations
from voiceagent.calls.dashboard import Dashboard
from voiceagent.calls.service import CallService
from voiceagent.settings import Settings
from voiceagent.web.limits import credential_wait, note_credential, too_many_failures


def get_service(request: Request) -> CallService:
    service: CallService = request.app.state.service
    return service


def get_dashboard(request: Request) -> Dashboard:
    return Dashboard(get_service(request).ctx)


def get_revocations(request: Request) -> Revocations:
    return Revocations(get_service(request).ctx)


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def require_token(request: Request) -> None:
    """With API_TOKEN set, `Authorization: Bearer <token>` is required (constant-time compare);
    a client that keeps sending wrong ones is made to wait (429)."""
    settings: Settings = request.app.state.settings
    if settings.api_token is None:
        return
    expected = settings.api_token.get_secret_value()
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    retry = credential_wait(request)
    if retry:
        raise too_many_failures(retry)
    ok = scheme.lower() == "bearer" and secrets.compare_digest(token.encode(), expected.encode())
    if header:  # no header at all is not a guess
        note_credential(request, ok=ok)
    if not ok:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="missing or wrong bearer token (API_TOKEN is set)",
            headers={"WWW-Authenticate": "Bearer"},
        )


Service = Annotated[CallService, Depends(get_service)]
Reads = Annotated[Dashboard, Depends(get_dashboard)]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]
Authorized = Depends(require_token)
