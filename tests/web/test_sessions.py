"""Logging out revokes the session on every instance, and the CSRF token is tied to the session
(issue 9, item 11)."""

from __future__ import annotations

import re
from typing import Any

import httpx

from voiceagent.web.ui import auth

TOKEN = "session-test-token-" + "s" * 24
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def _csrf(http: httpx.AsyncClient, path: str) -> str:
    found = CSRF.search((await http.get(path)).text)
    assert found
    return found.group(1)


async def _log_in(http: httpx.AsyncClient) -> str:
    csrf = await _csrf(http, "/ui/login")
    answer = await http.post("/ui/login", data={"token": TOKEN, "csrf_token": csrf})
    assert answer.status_code == 303
    return http.cookies[auth.SESSION_COOKIE]


async def test_a_logged_out_cookie_is_refused_on_every_instance(live_app: Any) -> None:
    async with live_app(api_token=TOKEN) as one, live_app(api_token=TOKEN) as two:
        async with httpx.AsyncClient(base_url=one.base_url) as browser:
            session = await _log_in(browser)
            other = await _log_in(browser)  # a second browser's session stays
            browser.cookies.set(auth.SESSION_COOKIE, session)
            csrf = await _csrf(browser, "/")
            out = await browser.post("/ui/logout", data={"csrf_token": csrf})
        replayed = {}
        for name, live in (("one", one), ("two", two)):
            async with httpx.AsyncClient(
                base_url=live.base_url, cookies={auth.SESSION_COOKIE: session}
            ) as copy:
                replayed[name] = (await copy.get("/")).status_code
        async with httpx.AsyncClient(
            base_url=two.base_url, cookies={auth.SESSION_COOKIE: other}
        ) as still:
            kept = (await still.get("/")).status_code
    assert out.status_code == 303
    assert replayed == {"one": 303, "two": 303}
    assert kept == 200


async def test_a_made_up_csrf_cookie_and_field_do_not_pass(live_app: Any) -> None:
    made_up = "x" * 43
    async with live_app(api_token=TOKEN) as live, httpx.AsyncClient(base_url=live.base_url) as http:
        await _log_in(http)
        http.cookies.set(auth.CSRF_COOKIE, made_up)
        forged = await http.post("/ui/dnc", data={"phone": "+14155550123", "csrf_token": made_up})
        real = await _csrf(http, "/ui/dnc")
        good = await http.post("/ui/dnc", data={"phone": "+14155550123", "csrf_token": real})
    assert forged.status_code == 403
    assert good.status_code == 303


async def test_one_sessions_csrf_token_is_worthless_in_another(live_app: Any) -> None:
    async with (
        live_app(api_token=TOKEN) as live,
        httpx.AsyncClient(base_url=live.base_url) as mine,
        httpx.AsyncClient(base_url=live.base_url) as theirs,
    ):
        await _log_in(mine)
        await _log_in(theirs)
        my_token = await _csrf(mine, "/ui/dnc")
        their_token = await _csrf(theirs, "/ui/dnc")
        # Even with the victim's CSRF cookie copied over, my session's token is not theirs.
        theirs.cookies.set(auth.CSRF_COOKIE, mine.cookies[auth.CSRF_COOKIE])
        crossed = await theirs.post(
            "/ui/dnc", data={"phone": "+14155550123", "csrf_token": my_token}
        )
    assert my_token != their_token
    assert crossed.status_code == 403


def test_each_session_has_its_own_id() -> None:
    one, two = auth.issue_session(TOKEN, now=1e9), auth.issue_session(TOKEN, now=1e9)
    assert one != two
    assert auth.parse_session(TOKEN, one, now=1e9) != auth.parse_session(TOKEN, two, now=1e9)
