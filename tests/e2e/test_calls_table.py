"""The calls table in a browser: filters and search kept in the URL, CSV export of the filtered
rows, and a call's page with its JSON download."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

from tests.e2e.conftest import expect

BUYER, SCEPTIC, NOT_INTERESTED, BUSY = (
    "+14155550101",
    "+14155550102",
    "+14155550103",
    "+14155550109",
)


async def test_filters_search_and_csv_export(dashboard: Any, tmp_path: Path) -> None:
    async with dashboard() as board:
        for number in (BUYER, SCEPTIC, NOT_INTERESTED, BUSY):
            await board.live.run_call(number)
        page = board.page
        rows = page.locator("table.data tbody tr")
        await board.open("/")
        await expect(rows).to_have_count(4)

        await page.get_by_label("Outcome").select_option("converted")
        await page.get_by_role("button", name="Apply filters").click()
        await expect(page).to_have_url(re.compile(r"/\?.*\boutcome=converted\b"))
        await expect(rows).to_have_count(1)
        await expect(rows.first).to_contain_text("0101")

        await page.reload()  # the filter lives in the URL, so a reload or a shared link keeps it
        await expect(page.get_by_label("Outcome")).to_have_value("converted")
        await expect(rows).to_have_count(1)

        await page.get_by_role("link", name="Clear filters").click()
        await page.get_by_label("Search by number or call id").fill("555-0102")
        await page.get_by_label("Search by number or call id").press("Enter")
        await expect(rows).to_have_count(1)
        await expect(rows.first).to_contain_text("declined")

        await board.open("/?status=completed&outcome=none")
        await expect(rows).to_have_count(1)
        await expect(rows.first).to_contain_text("not interested")
        async with page.expect_download() as info:
            await page.get_by_role("link", name="Export CSV").click()
        download = await info.value
        assert download.suggested_filename == "calls.csv"
        saved = tmp_path / "calls.csv"
        await download.save_as(saved)
        exported = list(csv.DictReader(saved.open(encoding="utf-8")))
    assert [(r["phone"], r["status"], r["end_reason"]) for r in exported] == [
        (NOT_INTERESTED, "completed", "not_interested")
    ]


async def test_call_page_shows_the_conversation_and_downloads_json(
    dashboard: Any, tmp_path: Path
) -> None:
    async with dashboard() as board:
        call = await board.live.run_call(BUYER)
        page = board.page
        await board.open("/")
        await page.locator("table.data tbody tr a").first.click()
        agent = [m for m in call["messages"] if m["role"] == "agent"]
        await expect(page.locator("#transcript .bubble.agent")).to_have_count(len(agent))
        await expect(page.locator("#transcript")).to_have_attribute("aria-live", "polite")
        await expect(page.locator(".bubble.agent .badge.state").first).to_have_text("INTRO")
        await expect(page.locator(".bubble.caller .badge").last).to_have_text("interested")
        await expect(page.locator(".timeline li")).to_have_count(len(call["transitions"]))
        await expect(page.locator(".timeline li").last).to_contain_text("CLOSE → END")
        async with page.expect_download() as info:
            await page.get_by_role("link", name="Download JSON").click()
        saved = tmp_path / "call.json"
        await (await info.value).save_as(saved)
    stored = json.loads(saved.read_text())
    assert stored["call_id"] == call["call_id"]
    assert stored["outcome"] == "converted"
    assert [m["text"] for m in stored["messages"]] == [m["text"] for m in call["messages"]]
