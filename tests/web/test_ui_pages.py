"""Every dashboard page renders, on an empty database and after calls, with the open banner."""

from __future__ import annotations

from typing import Any

import pytest
from markupsafe import escape

BUYER = "+14155550101"

PAGES = ["/", "/ui/live", "/ui/simulator", "/ui/analytics", "/ui/dnc"]


@pytest.mark.parametrize("path", PAGES)
async def test_page_renders_on_an_empty_database(live_app: Any, path: str) -> None:
    async with live_app() as live:
        response = await live.http.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "Open dashboard." in response.text  # no API_TOKEN: the banner says so
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_pages_render_with_calls(live_app: Any) -> None:
    async with live_app() as live:
        call = await live.run_call(BUYER)
        pages = {path: await live.http.get(path) for path in PAGES}
        detail = await live.http.get(f"/ui/calls/{call['call_id']}")
    for path, response in pages.items():
        assert response.status_code == 200, (path, response.text)
    assert detail.status_code == 200
    assert escape(call["messages"][0]["text"]) in detail.text


async def test_static_files_are_served_and_nothing_else(live_app: Any) -> None:
    async with live_app() as live:
        htmx = await live.http.get("/ui/static/htmx.min.js")
        css = await live.http.get("/ui/static/app.css")
        other = await live.http.get("/ui/static/VENDORED.md")
        escape = await live.http.get("/ui/static/..%2Fui%2Fauth.py")
    assert htmx.status_code == 200
    assert "htmx" in htmx.text[:200]
    assert css.status_code == 200
    assert other.status_code == 404
    assert escape.status_code == 404


async def test_dashboard_is_not_in_the_api_schema(live_app: Any) -> None:
    async with live_app() as live:
        schema = (await live.http.get("/openapi.json")).json()
    assert not [path for path in schema["paths"] if path == "/" or path.startswith("/ui")]
