"""The do-not-call page: add, remove, search and import; what it lists is what dialling refuses."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from tests.conftest import CLIENT_TIMEOUT, GUARD

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def csrf_from(http: httpx.AsyncClient) -> str:
    found = CSRF.search((await http.get("/ui/dnc")).text)
    assert found
    return found.group(1)


def shown(page: str) -> str:
    """What the page shows: its text and the labels and prompts a browser reads out."""
    text = re.sub(r"<input[^>]*>", "", page)  # form values are sent, not shown
    return re.sub(r"<[^>]*?(?:aria-label|data-confirm)=\"([^\"]*)\"[^>]*>|<[^>]+>", r" \1 ", text)


async def test_the_list_shows_numbers_masked_like_the_calls_pages(live_app: Any) -> None:
    async with (
        live_app() as live,
        httpx.AsyncClient(base_url=live.base_url, timeout=CLIENT_TIMEOUT) as http,
    ):
        csrf = await csrf_from(http)
        await http.post("/ui/dnc", data={"phone": "+14155550123", "csrf_token": csrf})
        page = await http.get("/ui/dnc")
        found = await http.get("/ui/dnc?q=0123")
    for text in (shown(page.text), shown(found.text)):
        assert "+1••••••0123" in text
        assert "4155550123" not in re.sub(r"\D", "", text)
    assert "Remove +1••••••0123 from the list" in page.text


async def test_added_number_is_listed_and_never_dialled(live_app: Any) -> None:
    async with (
        live_app() as live,
        httpx.AsyncClient(base_url=live.base_url, timeout=CLIENT_TIMEOUT) as http,
    ):
        csrf = await csrf_from(http)
        added = await http.post("/ui/dnc", data={"phone": "+1 415 555 0123", "csrf_token": csrf})
        again = await http.post("/ui/dnc", data={"phone": "+14155550123", "csrf_token": csrf})
        page = await http.get(added.headers["location"])
        dialled = await live.http.post("/call/start", json={"phone": "+14155550123"})
    assert added.headers["location"] == "/ui/dnc?done=added"
    assert again.headers["location"] == "/ui/dnc?done=already"
    assert "Number added" in page.text
    assert "+1••••••0123" in shown(page.text)  # masked, as on the calls pages
    assert "operator" in page.text
    assert dialled.status_code == 409


async def test_invalid_number_is_refused_with_the_reason(live_app: Any) -> None:
    async with (
        live_app() as live,
        httpx.AsyncClient(base_url=live.base_url, timeout=CLIENT_TIMEOUT) as http,
    ):
        csrf = await csrf_from(http)
        response = await http.post("/ui/dnc", data={"phone": "415555", "csrf_token": csrf})
    assert response.status_code == 422
    assert "not a valid US number" in response.text


async def test_a_national_number_is_added_in_the_default_region(live_app: Any) -> None:
    async with (
        live_app() as live,
        httpx.AsyncClient(base_url=live.base_url, timeout=CLIENT_TIMEOUT) as http,
    ):
        csrf = await csrf_from(http)
        added = await http.post("/ui/dnc", data={"phone": "(415) 555-0123", "csrf_token": csrf})
        imported = await http.post(
            "/ui/dnc/import",
            data={"csrf_token": csrf},
            files={"file": ("dnc.csv", b"4155550124\n415-555-0125\n", "text/csv")},
        )
        listed = (await live.http.get("/dnc")).json()
    assert added.status_code == 303
    assert imported.headers["location"].endswith("added=2&already=0&invalid=0")
    assert sorted(e["phone"] for e in listed["entries"]) == [
        "+14155550123",
        "+14155550124",
        "+14155550125",
    ]


async def test_removed_number_can_be_dialled_again(live_app: Any) -> None:
    async with (
        live_app() as live,
        httpx.AsyncClient(base_url=live.base_url, timeout=CLIENT_TIMEOUT) as http,
    ):
        csrf = await csrf_from(http)
        await http.post("/ui/dnc", data={"phone": "+14155550101", "csrf_token": csrf})
        removed = await http.post(
            "/ui/dnc/remove", data={"phone": "+14155550101", "csrf_token": csrf}
        )
        unknown = await http.post(
            "/ui/dnc/remove", data={"phone": "+14155550101", "csrf_token": csrf}
        )
        dialled = await live.http.post("/call/start", json={"phone": "+14155550101"})
        await live.carrier.wait_for(dialled.json()["twilio_sid"], timeout=GUARD)
    assert removed.headers["location"] == "/ui/dnc?done=removed"
    assert unknown.status_code == 404
    assert dialled.status_code == 202


async def test_csv_import_counts_added_listed_and_invalid(live_app: Any) -> None:
    data = (
        "\ufeffphone,name\n"
        "+14155550131,Ann\n"
        "+1 (415) 555-0132,Bob\n"
        "+14155550131,Ann again\n"
        "not a number,Zed\n"
        "\n"
        "+14155550133\n"
    ).encode()
    async with (
        live_app() as live,
        httpx.AsyncClient(base_url=live.base_url, timeout=CLIENT_TIMEOUT) as http,
    ):
        csrf = await csrf_from(http)
        await http.post("/ui/dnc", data={"phone": "+14155550133", "csrf_token": csrf})
        response = await http.post(
            "/ui/dnc/import",
            data={"csrf_token": csrf},
            files={"file": ("numbers.csv", data, "text/csv")},
        )
        page = await http.get(response.headers["location"])
        found = await http.get("/ui/dnc?q=0132")
    # The second "+14155550131" row counts as already listed, like +14155550133 added before.
    assert response.headers["location"] == "/ui/dnc?done=imported&added=2&already=2&invalid=1"
    assert "2 added, 2 already listed, 1 not valid" in page.text
    assert "3 numbers." in page.text
    assert "1 number match" in found.text
    assert "+1••••••0132" in shown(found.text)


async def test_notice_never_echoes_the_url(live_app: Any) -> None:
    async with live_app() as live:
        page = await live.http.get("/ui/dnc?done=<script>&added=<b>")
    assert "<script>" not in page.text
    assert "<b>" not in page.text


async def test_an_upload_over_the_generic_body_limit_is_imported(live_app: Any) -> None:
    # ~1.3 MB: over the app's 64 KB body limit, inside the form's own 2 MB.
    data = "".join(f"+1415{2_000_000 + n}\n" for n in range(100_000)).encode()
    async with (
        live_app() as live,
        httpx.AsyncClient(base_url=live.base_url, timeout=CLIENT_TIMEOUT) as http,
    ):
        csrf = await csrf_from(http)
        response = await http.post(
            "/ui/dnc/import",
            data={"csrf_token": csrf},
            files={"file": ("numbers.csv", data, "text/csv")},
            timeout=CLIENT_TIMEOUT,
        )
    assert response.status_code == 303, response.text
    assert "added=100000" in response.headers["location"]


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
async def test_an_upload_over_the_forms_cap_gets_the_page_with_a_message(
    live_app: Any, declared: bool
) -> None:
    data = b"+14155550101\n" * 250_000  # 3.25 MB
    async with (
        live_app() as live,
        httpx.AsyncClient(base_url=live.base_url, timeout=CLIENT_TIMEOUT) as http,
    ):
        csrf = await csrf_from(http)
        form = {"data": {"csrf_token": csrf}, "files": {"file": ("big.csv", data, "text/csv")}}
        request = http.build_request("POST", "/ui/dnc/import", **form)  # type: ignore[arg-type]
        if not declared:
            body = request.read()

            async def chunks() -> AsyncIterator[bytes]:
                for start in range(0, len(body), 65_536):
                    yield body[start : start + 65_536]

            request = http.build_request(
                "POST",
                "/ui/dnc/import",
                content=chunks(),
                headers={"Content-Type": request.headers["Content-Type"]},
            )
        response = await http.send(request)
        page = await http.get(response.headers["location"])
        listed = (await live.http.get("/dnc")).json()
    assert response.status_code == 303
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "That file is over 2 MB: split it" in page.text
    assert listed["total"] == 0
