"""The app factory: `create_app(settings, providers=None)`; real providers only when none given."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from voiceagent import __version__
from voiceagent.calls.context import Context
from voiceagent.calls.fixed_lines import fixed_sentences
from voiceagent.calls.retention import run_daily
from voiceagent.calls.service import CallService
from voiceagent.calls.stale import run_periodically
from voiceagent.calls.turn.budget import BRIDGES
from voiceagent.db.engine import create_engine, create_schema, create_sessions
from voiceagent.errors import (
    CallNotFound,
    CallRefused,
    InvalidPhoneNumber,
    ProviderError,
    VoiceAgentError,
)
from voiceagent.observability import Metrics, configure_logging, get_logger
from voiceagent.providers.audio import AudioCache
from voiceagent.providers.base import Providers
from voiceagent.providers.scripted import ScriptedLanguage
from voiceagent.script.model import SalesScript, load_script
from voiceagent.settings import Settings
from voiceagent.web import api, audio, dashboard, dnc_api, docs, relay_ws, twilio_hooks
from voiceagent.web.deps import Authorized
from voiceagent.web.limits import BodySizeLimit, FailureThrottle, RateLimiter
from voiceagent.web.responses import Utf8JSONResponse
from voiceagent.web.ui import dnc as dnc_page
from voiceagent.web.ui.upload_limit import FORM_MARGIN, UploadLimit

_STATUS: dict[type[VoiceAgentError], int] = {
    InvalidPhoneNumber: status.HTTP_422_UNPROCESSABLE_CONTENT,
    CallRefused: status.HTTP_409_CONFLICT,
    CallNotFound: status.HTTP_404_NOT_FOUND,
    ProviderError: status.HTTP_502_BAD_GATEWAY,
}


def create_app(
    settings: Settings,
    providers: Providers | None = None,
    *,
    script: SalesScript | None = None,
    configure_logs: bool = True,
) -> FastAPI:
    if configure_logs:
        configure_logging(settings.log_level, settings.log_format)
    script = script or load_script(settings.script_path)
    if providers is None:
        from voiceagent.providers.wiring import build_providers

        providers = build_providers(settings, script)
    log = get_logger()
    speech = providers.speech
    audio_cache = (
        AudioCache(voice=settings.elevenlabs_voice_id, model=settings.elevenlabs_model)
        if speech
        else None
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url)
        await create_schema(engine)
        ctx = Context(
            settings=settings,
            sessions=create_sessions(engine),
            providers=providers,
            script=script,
            metrics=Metrics(),
            log=log,
            fallback=ScriptedLanguage(script),
            audio_cache=audio_cache,
            hints=script.hints(),
        )
        service = app.state.service = CallService(ctx)
        warming = None
        if speech is not None and audio_cache is not None and settings.voice_transport == "gather":
            # In the background: calls start at once; fixed lines answer from the cache once
            # it is warm, and are synthesised live until then. (On relay Twilio speaks.)
            texts = fixed_sentences(script, BRIDGES)
            warming = asyncio.create_task(audio_cache.warm(texts, speech), name="audio-warm")
        app.state.audio_warming = warming
        retention = asyncio.create_task(
            run_daily(sessions=ctx.sessions, days=settings.retention_days, log=log),
            name="retention",
        )
        stale = asyncio.create_task(
            run_periodically(
                sessions=ctx.sessions,
                idle=timedelta(minutes=settings.stale_call_minutes),
                log=log,
            ),
            name="stale-calls",
        )
        log.info(
            "service_started",
            telephony=providers.telephony.name,
            database=engine.url.get_backend_name(),
            public_base_url=settings.public_base_url,
            transport=settings.voice_transport,
        )
        try:
            yield
        finally:
            for job in (retention, stale):
                job.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await job
            if warming is not None:
                warming.cancel()
            await service.aclose()
            for provider in (providers.speech, providers.language):
                close = getattr(provider, "aclose", None)
                if close is not None:
                    await close()
            closer = getattr(providers.telephony, "aclose", None)
            if closer is not None:
                await closer()
            await engine.dispose()

    # The schema and its pages are routes of our own (web/docs.py): guarded, served offline.
    app = FastAPI(
        title="voiceagent",
        version=__version__,
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.call_start_limiter = RateLimiter(settings.call_start_rate_per_minute)
    app.state.auth_failures = FailureThrottle()
    # A do-not-call CSV may be large; its routes allow a little over the file for the form. A
    # Twilio form may be large too, and a 413 would end a live call over it.
    dashboard_import = dnc_page.MAX_IMPORT_BYTES + FORM_MARGIN
    app.add_middleware(
        BodySizeLimit,
        per_path={
            "/dnc/import": dnc_api.MAX_CSV_BYTES + FORM_MARGIN,
            "/ui/dnc/import": dashboard_import + 1,  # UploadLimit, in front, answers first
            **dict.fromkeys(twilio_hooks.WEBHOOK_PATHS, twilio_hooks.MAX_WEBHOOK_BYTES),
        },
    )
    app.add_middleware(
        UploadLimit,
        path="/ui/dnc/import",
        limit=dashboard_import,
        refused_url=dnc_page.REFUSED_URL,
    )
    if settings.proxies:
        # Here rather than in the server's options, so it holds however the app is served;
        # `serve` turns uvicorn's own handling (which trusts 127.0.0.1) off.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.proxies)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own answer, encoded so that a refused field's text cannot break it.
        detail = jsonable_encoder(exc.errors())
        return Utf8JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(VoiceAgentError)
    async def _known_error(request: Request, exc: VoiceAgentError) -> JSONResponse:
        code = next((c for kind, c in _STATUS.items() if isinstance(exc, kind)), 500)
        log.warning("request_failed", path=request.url.path, status=code, error=str(exc))
        if code == status.HTTP_422_UNPROCESSABLE_CONTENT:
            # Routes name the field (web.inputs.phone_at); this is the shape if one forgot.
            problem = [{"loc": ["body"], "msg": str(exc), "type": "value_error"}]
            return Utf8JSONResponse({"detail": problem}, status_code=code)
        return Utf8JSONResponse({"detail": str(exc)}, status_code=code)

    @app.get("/healthz", summary="Liveness: always open")
    async def healthz() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "telephony": providers.telephony.name}

    @app.get(
        "/metrics",
        dependencies=[Authorized],
        response_class=PlainTextResponse,
        summary="Prometheus metrics",
    )
    async def metrics(request: Request) -> PlainTextResponse:
        registry = request.app.state.service.ctx.metrics.registry
        return PlainTextResponse(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(api.router)
    app.include_router(twilio_hooks.router)
    app.include_router(relay_ws.router)
    app.include_router(audio.router)
    app.include_router(dnc_api.router)
    app.include_router(dashboard.router)
    app.include_router(docs.guarded)
    app.include_router(docs.assets)
    return app
