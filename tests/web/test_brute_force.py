"""Guessing the token: wrong ones are throttled per client, and a short token is refused at
start-up (issue 9, item 6)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from voiceagent.errors import ConfigError
from voiceagent.settings import get_settings
from voiceagent.web.limits import FailureThrottle


def _patient(live: Any) -> None:
    """A first wait far longer than the test, so a slow machine never sees it run out."""
    live.app.state.auth_failures = FailureThrottle(first_wait=600.0)


TOKEN = "brute-force-test-token-" + "k" * 20
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def test_wrong_bearer_tokens_are_throttled_then_even_the_right_one_waits(
    live_app: Any,
) -> None:
    async with live_app(api_token=TOKEN) as live:
        _patient(live)
        wrong = [
            await live.http.get("/calls", headers={"Authorization": f"Bearer guess{i}"})
            for i in range(6)
        ]
        right = await live.http.get("/calls")
        dashboard = await live.http.get("/")
    assert [r.status_code for r in wrong] == [401] * 5 + [429]
    assert int(wrong[5].headers["Retry-After"]) >= 1
    assert right.status_code == 429  # while it waits, no token is even compared
    assert dashboard.status_code == 429


async def test_wrong_logins_are_throttled(live_app: Any) -> None:
    async with (
        live_app(api_token=TOKEN) as live,
        httpx.AsyncClient(base_url=live.base_url) as browser,
    ):
        _patient(live)
        page = await browser.get("/ui/login")
        found = CSRF.search(page.text)
        assert found
        answers = [
            await browser.post(
                "/ui/login", data={"token": f"guess{i}", "csrf_token": found.group(1)}
            )
            for i in range(6)
        ]
        right = await browser.post("/ui/login", data={"token": TOKEN, "csrf_token": found.group(1)})
    assert [a.status_code for a in answers] == [401] * 5 + [429]
    assert int(answers[5].headers["Retry-After"]) >= 1
    assert "Try again in" in answers[5].text
    assert right.status_code == 429


async def test_the_throttle_is_per_client(live_app: Any) -> None:
    async with live_app(api_token=TOKEN, trusted_proxies="127.0.0.1") as live:
        _patient(live)
        for i in range(6):
            await live.http.get(
                "/calls",
                headers={"Authorization": f"Bearer guess{i}", "X-Forwarded-For": "203.0.113.7"},
            )
        guesser = await live.http.get("/calls", headers={"X-Forwarded-For": "203.0.113.7"})
        someone_else = await live.http.get("/calls", headers={"X-Forwarded-For": "203.0.113.8"})
    assert guesser.status_code == 429
    assert someone_else.status_code == 200


def test_the_wait_doubles_and_a_success_or_quiet_forgets() -> None:
    throttle = FailureThrottle(free=2, first_wait=1.0, longest_wait=60.0, forget=900.0)
    for i in range(10):  # a typo now and then, with long quiet between: never a wait
        throttle.failed("a", now=float(i * 1000))
        assert throttle.wait("a", now=float(i * 1000)) == 0
    throttle = FailureThrottle(free=2, first_wait=1.0, longest_wait=60.0, forget=900.0)
    waits = []
    for i in range(9):
        throttle.failed("a", now=float(i))
        waits.append(throttle.wait("a", now=float(i)))
    assert waits == [0, 1, 2, 4, 8, 16, 32, 60, 60]
    assert throttle.wait("b", now=8.0) == 0
    assert throttle.wait("a", now=68.0) == 0  # the wait is over: it may try again
    throttle.succeeded("a")
    throttle.failed("a", now=70.0)
    assert throttle.wait("a", now=70.0) == 0


@pytest.mark.parametrize("token", ["change-me", "x" * 31])
def test_a_short_api_token_is_refused_at_start_up(token: str) -> None:
    with pytest.raises(ConfigError, match=r"^API_TOKEN: .*at least 32 characters"):
        get_settings(_env_file=None, api_token=token)
    assert get_settings(_env_file=None, api_token="x" * 32).api_token is not None


def test_env_example_does_not_suggest_a_weak_token() -> None:
    example = Path(__file__).resolve().parents[2] / ".env.example"
    text = example.read_text()
    assert "change-me" not in text
    assert "API_TOKEN=" in text
