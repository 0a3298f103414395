"""The API's description: guarded by the token, served with no CDN, the bearer scheme declared and
every operation summarised (issue 9, item 14)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

TOKEN = "docs-test-token-" + "d" * 24
DOCS = ["/openapi.json", "/docs", "/redoc"]


@pytest.mark.parametrize("path", DOCS)
async def test_the_docs_need_the_token_when_it_is_set(live_app: Any, path: str) -> None:
    async with live_app(api_token=TOKEN) as live:
        allowed = await live.http.get(path)
        async with httpx.AsyncClient(base_url=live.base_url) as stranger:
            refused = await stranger.get(path, headers={"Accept": "application/json"})
            browser = await stranger.get(path)
    assert allowed.status_code == 200
    assert refused.status_code in (303, 401)
    assert browser.status_code == 303
    assert browser.headers["location"].startswith("/ui/login")


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def test_the_docs_load_nothing_from_another_host(live_app: Any, path: str) -> None:
    async with live_app() as live:
        page = await live.http.get(path)
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        fetched = [await live.http.get(url) for url in sources]
    assert page.status_code == 200
    assert sources
    assert all(url.startswith("/") and not url.startswith("//") for url in sources), sources
    assert [r.status_code for r in fetched] == [200] * len(sources)
    assert "cdn" not in page.text.lower()


async def test_only_the_docs_own_assets_are_served(live_app: Any) -> None:
    async with live_app() as live:
        odd = [await live.http.get(f"/docs/assets/{name}") for name in ("..%2Fcore.py", "x.js")]
    assert [r.status_code for r in odd] == [404, 404]


async def test_the_schema_declares_the_bearer_scheme_and_summarises_everything(
    live_app: Any,
) -> None:
    async with live_app(api_token=TOKEN) as live:
        schema = (await live.http.get("/openapi.json")).json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "`Authorization: Bearer <API_TOKEN>`",
    }
    operations = {
        (method.upper(), path): op
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
    }
    assert all(op.get("summary") for op in operations.values())
    for key in [("GET", "/calls"), ("POST", "/call/start"), ("POST", "/calls/{call_id}/hangup")]:
        assert operations[key]["security"] == [{"bearer": []}], key
    assert "security" not in operations[("GET", "/healthz")]
    assert "security" not in operations[("POST", "/twilio/voice")]
    assert operations[("POST", "/call/start")]["summary"] == "Place a call"


async def test_an_open_service_declares_no_scheme(live_app: Any) -> None:
    async with live_app() as live:
        schema = (await live.http.get("/openapi.json")).json()
    assert "securitySchemes" not in schema.get("components", {})
    assert not [op for ops in schema["paths"].values() for op in ops.values() if "security" in op]
