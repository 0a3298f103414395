"""Templates and the one helper every page goes through, with the formatting filters they share."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from voiceagent.calls.status import FINISHED
from voiceagent.funnel import State
from voiceagent.phone import mask_phone
from voiceagent.web.ui import auth

WEB = Path(__file__).resolve().parent.parent
STATIC = WEB / "static"
NAV = (
    ("/", "Calls"),
    ("/ui/live", "Live"),
    ("/ui/simulator", "Simulator"),
    ("/ui/analytics", "Analytics"),
    ("/ui/dnc", "Do-not-call"),
)
# Pages are framed by nobody and leak no URLs (call ids) to other sites.
SECURITY_HEADERS = {
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def fmt_duration(seconds: int | float | None) -> str:
    if seconds is None:
        return "—"
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def fmt_when(value: datetime | None, pattern: str = "%Y-%m-%d %H:%M:%S") -> str:
    return "—" if value is None else value.strftime(pattern)


def fmt_pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _nav_current(request: Request, href: str) -> bool:
    path = request.url.path
    if href == "/":
        return path == "/" or path.startswith("/ui/calls")
    return path.startswith(href)


def _build() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(WEB / "templates"))
    env = templates.env
    env.filters.update(
        ms=fmt_ms, duration=fmt_duration, when=fmt_when, pct=fmt_pct, masked=mask_phone
    )
    env.globals.update(
        nav=NAV,
        funnel_states=[s.value for s in State],
        finished=FINISHED,
        nav_current=_nav_current,
    )
    return templates


TEMPLATES = _build()


def context(request: Request, values: dict[str, Any]) -> dict[str, Any]:
    token_set = auth.api_token(request) is not None
    return {
        "open_dashboard": not token_set,
        "show_logout": token_set and not auth.has_bearer(request),
        "csrf": auth.csrf_token(request),
        **values,
    }


def page(
    request: Request, template: str, values: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        context(request, values),
        status_code=status_code,
        headers=SECURITY_HEADERS,
    )
    auth.remember_csrf(request, response)
    return response


def fragment(request: Request, template: str, values: dict[str, Any]) -> str:
    """A partial rendered to a string: for server-sent events and htmx swaps."""
    return TEMPLATES.get_template(template).render(context(request, values))
