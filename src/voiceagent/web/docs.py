"""The API's own description: `/openapi.json`, `/docs` (Swagger UI) and `/redoc`.

Behind the same guard as the dashboard (the bearer header or a logged-in session), since the
schema maps every route. The pages' scripts and styles are served from the `fastapi-offline`
package (Swagger UI 5 and ReDoc 2, unmodified), so they work with no network; the assets are
open, as they are the same for everyone.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import APIRouter, FastAPI, HTTPException, Request, status
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from voiceagent.web.ui.auth import Operator

ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"
_FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png")
_PREFIX = "/docs/assets"

guarded = APIRouter(dependencies=[Operator], include_in_schema=False)
assets = APIRouter(include_in_schema=False)


BEARER = {
    "type": "http",
    "scheme": "bearer",
    "description": "`Authorization: Bearer <API_TOKEN>`",
}


# What the token does not guard (the spec's list): health, Twilio's signed webhooks, and the
# audio Twilio fetches unsigned by an unguessable id.
OPEN = ("/healthz", "/twilio/", "/audio/")


def describe(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema, plus the bearer scheme on every guarded operation when API_TOKEN is
    set (with it unset nothing is checked, and the schema says so)."""
    schema: dict[str, Any] = app.openapi()
    if app.state.settings.api_token is None:
        return schema
    schema = copy.deepcopy(schema)
    schema.setdefault("components", {})["securitySchemes"] = {"bearer": BEARER}
    for path, operations in schema["paths"].items():
        if path.startswith(OPEN):
            continue
        for operation in operations.values():
            operation["security"] = [{"bearer": []}]
    return schema


@guarded.get("/openapi.json")
async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(describe(request.app))


@guarded.get("/docs", response_class=HTMLResponse)
async def swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title=f"{request.app.title} — API",
        swagger_js_url=f"{_PREFIX}/swagger-ui-bundle.js",
        swagger_css_url=f"{_PREFIX}/swagger-ui.css",
        swagger_favicon_url=f"{_PREFIX}/favicon.png",
    )


@guarded.get("/redoc", response_class=HTMLResponse)
async def redoc(request: Request) -> HTMLResponse:
    return get_redoc_html(
        openapi_url="/openapi.json",
        title=f"{request.app.title} — API",
        redoc_js_url=f"{_PREFIX}/redoc.standalone.js",
        redoc_favicon_url=f"{_PREFIX}/favicon.png",
        with_google_fonts=False,
    )


@assets.get(_PREFIX + "/{name}")
async def asset(name: str) -> FileResponse:
    if name not in _FILES:  # a fixed list: no path from the URL ever reaches the disk
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such file")
    return FileResponse(ASSETS / name, headers={"Cache-Control": "public, max-age=86400"})
