"""The do-not-call page in a browser: add, import a CSV file, and remove only once confirmed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.conftest import expect


async def test_add_import_and_confirmed_remove(dashboard: Any, tmp_path: Path) -> None:
    upload = tmp_path / "numbers.csv"
    upload.write_text("phone\n+14155550161\n+14155550162\nnope\n", encoding="utf-8")
    async with dashboard() as board:
        page = board.page
        rows = page.locator("#dnc-table tbody tr")
        await board.open("/ui/dnc")
        await page.get_by_label("Phone number", exact=True).fill("+1 415 555 0160")
        await page.get_by_role("button", name="Add to the list").click()
        await expect(page.locator(".notice")).to_contain_text("Number added")

        await page.get_by_label("One number per line").set_input_files(upload)
        await page.get_by_role("button", name="Import").click()
        await expect(page.locator(".notice")).to_contain_text("2 added, 0 already listed, 1 not")
        await expect(rows).to_have_count(3)

        remove = page.get_by_role("button", name="Remove +1••••••0160 from the list")
        page.once("dialog", lambda dialog: dialog.dismiss())
        await remove.click()
        await expect(rows).to_have_count(3)  # dismissed: nothing sent
        page.once("dialog", lambda dialog: dialog.accept())
        await remove.click()
        await expect(page.locator(".notice")).to_contain_text("Number removed")
        await expect(rows).to_have_count(2)
        await expect(page.locator("#dnc-table")).not_to_contain_text("+1••••••0160")
