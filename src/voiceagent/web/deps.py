"""FastAPI dependencies, declared once as `Annotated` aliases."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from voiceagent.calls.service import CallService
from voiceagent.settings import Settings


def get_service(request: Request) -> CallService:
    service: CallService = request.app.state.service
    return service


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def require_token(request: Request) -> None:
    """With API_TOKEN set, `Authorization: Bearer <token>` is required (constant-time compare)."""
    settings: Settings = request.app.state.settings
    if settings.api_token is None:
        return
    expected = settings.api_token.get_secret_value()
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(token.encode(), expected.encode()):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="missing or wrong bearer token (API_TOKEN is set)",
            headers={"WWW-Authenticate": "Bearer"},
        )


Service = Annotated[CallService, Depends(get_service)]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]
Authorized = Depends(require_token)
