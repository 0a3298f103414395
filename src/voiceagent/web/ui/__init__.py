"""The operator dashboard: server-rendered pages (Jinja2) with htmx, and no build step.

| module | role |
|---|---|
| `calls.py` | the calls table (filters, paging, CSV) and one call's page (JSON download) |
| `live.py` | the self-refreshing active-calls table; a call's transcript as server-sent events |
| `simulator.py`, `desk.py` | test calls on the simulated carrier, the callee played from the page |
| `analytics.py`, `charts.py` | KPIs, funnel, breakdowns, per-day series; SVG drawn here |
| `dnc.py` | the do-not-call list: list, add, remove, import |
| `login.py`, `auth.py` | API_TOKEN login, session cookie, CSRF |
| `render.py` | templates and formatting; the reads are `calls/dashboard.py`'s (SQL in `db/`) |

Templates are in `web/templates`, static files (htmx vendored) in `web/static`.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from voiceagent.web.ui import analytics, calls, dnc, live, login, simulator
from voiceagent.web.ui.render import STATIC

_ASSETS = {"htmx.min.js", "app.css", "live.js"}

router = APIRouter(include_in_schema=False)


@router.get("/ui/static/{name}")
async def static_file(name: str) -> FileResponse:
    # A fixed list, not a directory: nothing else under the package is reachable by name.
    if name not in _ASSETS:
        raise HTTPException(404)
    return FileResponse(STATIC / name, headers={"Cache-Control": "public, max-age=3600"})


for _pages in (calls, live, simulator, analytics, dnc, login):
    router.include_router(_pages.router)

__all__ = ["router"]
