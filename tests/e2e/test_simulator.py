"""The simulator end to end: a person starts a test call, plays the callee by typing, watches the
agent answer and the funnel stepper move, and finds the call in the table with its outcome."""

from __future__ import annotations

import re
from typing import Any

from tests.e2e.conftest import Dashboard, expect


async def _say(board: Dashboard, text: str) -> None:
    box = board.page.get_by_label("What you say")
    await box.fill(text)
    await box.press("Enter")


async def _agent_lines(board: Dashboard, count: int) -> None:
    await expect(board.page.locator("#transcript .bubble.agent")).to_have_count(count)


async def _stepper_at(board: Dashboard, state: str) -> None:
    await expect(board.page.locator('.stepper [aria-current="step"]')).to_contain_text(state)


async def test_typed_conversation_converts_and_shows_in_the_table(dashboard: Any) -> None:
    async with dashboard() as board:
        page = board.page
        await board.open("/")
        await page.get_by_role("link", name="Start a test call").first.click()
        await page.get_by_label("Their first name").fill("Sam")
        await page.get_by_role("button", name="Start test call").click()

        await expect(page).to_have_url(re.compile(r"/ui/simulator/[0-9a-f-]{36}$"))
        await _agent_lines(board, 1)
        await expect(page.locator("#transcript .bubble.agent").first).to_contain_text("Sam")
        await _stepper_at(board, "INTRO")

        await page.get_by_role("button", name="Yes", exact=True).click()
        await expect(page.locator("#transcript .bubble.caller").first).to_contain_text("Yes, sure")
        await _agent_lines(board, 2)
        await _stepper_at(board, "QUALIFY")
        await expect(page.locator("#call-status")).to_contain_text("interested")
        # The box is emptied for the next line once the reply is accepted.
        await expect(page.get_by_label("What you say")).to_have_value("")

        await _say(board, "We do it all in spreadsheets.")
        await _agent_lines(board, 3)
        await _say(board, "About twenty people.")
        await _agent_lines(board, 4)
        await _stepper_at(board, "PITCH")
        await _say(board, "Yes, that sounds useful.")
        await _agent_lines(board, 5)
        await _stepper_at(board, "CLOSE")
        await _say(board, "Yes, book it.")

        ended = page.locator("#call-status .ended")
        await expect(ended).to_contain_text("outcome converted")
        await _stepper_at(board, "END")
        await expect(page.get_by_label("What you say")).to_be_disabled()
        latency = page.locator("#transcript .bubble.agent .latency").last
        await expect(latency).to_contain_text("ms")
        await board.check("simulator-converted")

        await ended.get_by_role("link", name="Test calls in the table").click()
        await expect(page.locator("#f-kind")).to_have_value("test")
        row = page.locator("table.data tbody tr").first
        await expect(row).to_contain_text("converted")
        await expect(row).to_contain_text("0150")
        await expect(row.locator(".badge.test")).to_have_text("test")


async def test_hang_up_while_others_watch_live(dashboard: Any) -> None:
    async with dashboard() as board:
        page = board.page
        await board.open("/ui/simulator")
        await page.get_by_role("button", name="Start test call").click()
        await _agent_lines(board, 1)
        call_id = page.url.rsplit("/", 1)[-1]

        # A second operator watches: the live table lists the call, its page streams the turns.
        watcher = await page.context.new_page()
        await watcher.goto(board.url("/ui/live"))
        await expect(watcher.locator("#active")).to_contain_text(f"Watch call {call_id[:8]}")
        await watcher.get_by_role("link", name=f"Watch call {call_id[:8]}").click()
        await expect(watcher.locator("#transcript .bubble.agent")).to_have_count(1)

        await page.get_by_role("button", name="Call me later").click()
        await expect(watcher.locator("#transcript .bubble.caller")).to_contain_text("call me later")
        await expect(watcher.locator("#transcript .bubble.caller .badge")).to_have_text(
            "not interested"
        )

        await page.get_by_role("button", name="Hang up").click()
        await expect(page.locator("#call-status .ended")).to_contain_text("caller hung up")
        await expect(watcher.locator("#call-status")).to_contain_text("caller hung up")
        await watcher.goto(board.url("/ui/live"))
        await expect(watcher.locator("#active")).to_contain_text("No calls in progress")

        await board.open("/?end_reason=caller_hung_up")
        await expect(page.locator("#results-count")).to_contain_text("1 call match")
        await page.locator("table.data tbody tr a").first.click()
        await expect(page.locator("#transcript .bubble.caller")).to_have_count(1)
        await expect(page.locator("#call-status")).to_contain_text("completed")
