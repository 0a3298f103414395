"""Every page passes axe-core (no serious or critical violations) at desktop and phone widths,
fits a phone's width without sideways scrolling, and is saved as a screenshot."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import expect

PERSONAS = ("+14155550101", "+14155550102", "+14155550103", "+14155550109")


async def test_every_page_is_accessible_and_photographed(dashboard: Any) -> None:
    async with dashboard() as board:
        calls = [await board.live.run_call(number) for number in PERSONAS]
        page = board.page

        await board.open("/")
        await expect(page.locator("#results-count")).to_contain_text("4 calls")
        await board.check("calls")

        await board.open("/?outcome=converted&kind=test")
        await board.check("calls-filtered")

        await board.open(f"/ui/calls/{calls[0]['call_id']}")
        await expect(page.locator(".bubble.agent").first).to_be_visible()
        await board.check("call-detail")

        await board.open("/ui/analytics")
        await board.check("analytics")

        await board.open("/ui/dnc")
        await page.get_by_label("Phone number", exact=True).fill("+14155550177")
        await page.get_by_role("button", name="Add to the list").click()
        await expect(page.locator(".notice")).to_contain_text("Number added")
        await board.check("dnc")

        await board.open("/ui/simulator")
        await board.check("simulator")
        await page.get_by_role("button", name="Start test call").click()
        await expect(page.locator(".bubble.agent").first).to_be_visible()
        await board.check("simulator-call")

        await board.open("/ui/live")
        await expect(page.locator("#active")).to_contain_text("Watch call")
        await board.check("live")

        await board.open("/ui/calls/not-a-call")
        await board.check("not-found")


async def test_login_page_is_accessible(dashboard: Any) -> None:
    async with dashboard(api_token="let-me-in-please-" + "x" * 32) as board:
        await board.open("/")
        await expect(board.page.get_by_role("heading", name="Log in")).to_be_visible()
        await board.check("login")
