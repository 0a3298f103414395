"""Browser tests: Playwright driving Debian's Chromium against the real app served on loopback.

They skip, saying why, when /usr/bin/chromium is missing (CI installs it with
`apt-get install -y chromium`); no browser is ever downloaded. Screenshots of every page land in
`artifacts/screenshots/` at the repository root, for CI to keep.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import Live

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 15_000
# Which elements stick out past the right edge: what to fix when a page scrolls sideways.
WIDEST_ELEMENTS = """() => [...document.querySelectorAll("body *")]
    .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
    .slice(0, 5).map(e => e.tagName + "." + e.className + "#" + e.id)"""

try:
    from playwright.async_api import Browser, Page, async_playwright, expect
except ImportError:  # pragma: no cover - the dev extra installs it; the fixture then skips
    async_playwright = expect = None


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    # The browser does not care which database serves the page; tests/web runs both legs.
    return f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if async_playwright is None:
        pytest.skip("the playwright package is not installed (pip install -e '.[dev]')")
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is missing: install Debian's Chromium (apt-get install -y chromium)"
        )
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


@dataclass
class Dashboard:
    """One browser tab on the app, with the checks every page gets."""

    live: Live
    page: Page

    def url(self, path: str) -> str:
        return self.live.base_url + path

    async def open(self, path: str) -> None:
        await self.page.goto(self.url(path))

    async def violations(self) -> list[dict[str, Any]]:
        """axe-core's serious and critical findings on the page as it is now."""
        await self.page.add_script_tag(path=str(AXE))
        found: list[dict[str, Any]] = await self.page.evaluate(
            """async () => {
                const result = await axe.run(document, {resultTypes: ["violations"]});
                return result.violations.map(v => ({
                    id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ")),
                }));
            }"""
        )
        return [v for v in found if v["impact"] in ("serious", "critical")]

    async def check(self, name: str) -> None:
        """No serious accessibility problem, at desktop and phone widths; screenshots of both."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
            await self.page.set_viewport_size(size)
            problems = await self.violations()
            assert not problems, f"{name} at {label} width: {problems}"
            overflow = await self.page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            if overflow > 1:
                wide = await self.page.evaluate(WIDEST_ELEMENTS)
                raise AssertionError(f"{name} scrolls sideways by {overflow}px at {label}: {wide}")
            await self.page.screenshot(
                path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True
            )
        await self.page.set_viewport_size(DESKTOP)


@pytest.fixture
def dashboard(live_app: Callable[..., Any], browser: Browser) -> Callable[..., Any]:
    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[Dashboard]:
        async with live_app(**overrides) as live:
            context = await browser.new_context(viewport=DESKTOP, accept_downloads=True)
            context.set_default_timeout(TIMEOUT_MS)
            page = await context.new_page()
            try:
                yield Dashboard(live, page)
            finally:
                # Closing the tab ends its event stream before the server shuts down.
                await context.close()

    return start


__all__ = ["Dashboard", "expect"]
