"""With API_TOKEN set the dashboard asks for it once, then holds an HTTP-only session cookie."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from tests.e2e.conftest import expect

TOKEN = "correct-horse-battery-staple-and-more"


async def test_login_once_then_browse_then_log_out(dashboard: Any) -> None:
    async with dashboard(api_token=TOKEN) as board:
        page = board.page
        await board.open("/ui/analytics?kind=test")
        await expect(page).to_have_url(
            board.url(f"/ui/login?next={quote('/ui/analytics?kind=test', safe='')}")
        )
        await expect(page.locator(".banner")).to_have_count(0)  # not an open dashboard

        await page.get_by_label("API token").fill("wrong")
        await page.get_by_role("button", name="Log in").click()
        await expect(page.get_by_role("alert")).to_contain_text("That token is not right")

        await page.get_by_label("API token").fill(TOKEN)
        await page.get_by_role("button", name="Log in").click()
        await expect(page).to_have_url(board.url("/ui/analytics?kind=test"))
        await expect(page.get_by_role("heading", name="Analytics")).to_be_visible()

        cookies = {c["name"]: c for c in await page.context.cookies()}
        session = cookies["va_session"]
        assert session["httpOnly"]
        assert session["sameSite"] == "Strict"
        assert TOKEN not in session["value"]

        await page.get_by_role("link", name="Do-not-call").click()
        await expect(page.get_by_role("heading", name="Do-not-call list")).to_be_visible()

        await page.get_by_role("button", name="Log out").click()
        await expect(page.get_by_role("heading", name="Log in")).to_be_visible()
        await board.open("/")
        await expect(page.get_by_role("heading", name="Log in")).to_be_visible()
