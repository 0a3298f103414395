"""Dashboard access: open with a banner, or API_TOKEN by bearer header or a signed session cookie;
every form guarded against cross-site requests."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest
from tests.conftest import CLIENT_TIMEOUT

from voiceagent.web.ui import auth

TOKEN = "s3cret-token-for-tests-0123456789abcdef"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def client(live: Any) -> httpx.AsyncClient:
    """A browser-like client: no bearer header, keeps cookies."""
    return httpx.AsyncClient(base_url=live.base_url, timeout=CLIENT_TIMEOUT)


async def csrf_from(http: httpx.AsyncClient, path: str) -> str:
    page = await http.get(path)
    found = CSRF.search(page.text)
    assert found, page.text
    return found.group(1)


async def log_in(http: httpx.AsyncClient, token: str = TOKEN, nxt: str = "/") -> httpx.Response:
    csrf = await csrf_from(http, "/ui/login")
    return await http.post("/ui/login", data={"token": token, "next": nxt, "csrf_token": csrf})


async def test_open_dashboard_shows_the_banner_and_skips_login(live_app: Any) -> None:
    async with live_app() as live, client(live) as http:
        home = await http.get("/")
        login = await http.get("/ui/login")
    assert home.status_code == 200
    assert "API_TOKEN</code> is not set" in home.text
    assert login.status_code == 303
    assert login.headers["location"] == "/"


@pytest.mark.parametrize(
    "path", ["/", "/ui/live", "/ui/simulator", "/ui/analytics", "/ui/dnc", "/ui/calls.csv"]
)
async def test_pages_send_a_browser_to_the_login_form(live_app: Any, path: str) -> None:
    async with live_app(api_token=TOKEN) as live, client(live) as http:
        response = await http.get(path + "?kind=test")
    assert response.status_code == 303
    assert response.headers["location"] == (
        f"/ui/login?next={path.replace('/', '%2F')}%3Fkind%3Dtest"
    )


async def test_scripts_get_401_not_a_redirect(live_app: Any) -> None:
    async with live_app(api_token=TOKEN) as live, client(live) as http:
        htmx = await http.get("/ui/live/active", headers={"HX-Request": "true"})
        stream = await http.get("/ui/calls/x/stream", headers={"Accept": "text/event-stream"})
        post = await http.post("/ui/dnc", data={"phone": "+14155550123"})
    assert htmx.status_code == 401
    assert htmx.headers["hx-redirect"] == "/ui/login"
    assert stream.status_code == 401
    assert post.status_code == 401


async def test_bearer_header_opens_the_dashboard(live_app: Any) -> None:
    async with live_app(api_token=TOKEN) as live:
        response = await live.http.get("/")  # the fixture's client sends the bearer token
        wrong = await live.http.get("/", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 200
    assert "Open dashboard" not in response.text
    assert "Log out" not in response.text  # nothing to log out of with a header
    assert wrong.status_code == 303


async def test_login_sets_a_strict_http_only_session(live_app: Any) -> None:
    async with live_app(api_token=TOKEN) as live, client(live) as http:
        bad = await log_in(http, "wrong")
        good = await log_in(http, TOKEN, "/ui/analytics?kind=test")
        home = await http.get("/")
        csrf = CSRF.search(home.text)
        assert csrf is not None
        out = await http.post("/ui/logout", data={"csrf_token": csrf.group(1)})
        after = await http.get("/")
    assert bad.status_code == 401
    assert "That token is not right" in bad.text
    assert good.status_code == 303
    assert good.headers["location"] == "/ui/analytics?kind=test"
    cookie = good.headers["set-cookie"]
    assert cookie.startswith(f"{auth.SESSION_COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert TOKEN not in cookie
    assert home.status_code == 200
    assert "Log out" in home.text
    assert out.status_code == 303
    assert after.status_code == 303


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil", ""])
async def test_login_never_redirects_off_site(live_app: Any, target: str) -> None:
    async with live_app(api_token=TOKEN) as live, client(live) as http:
        response = await log_in(http, TOKEN, target)
    assert response.headers["location"] == "/"


def test_session_cookie_is_signed_expires_and_is_tied_to_the_token() -> None:
    now = time.time()
    value = auth.issue_session(TOKEN, now=now)
    assert auth.session_is_valid(TOKEN, value, now=now)
    assert not auth.session_is_valid(TOKEN, value, now=now + auth.SESSION_SECONDS + 1)
    assert not auth.session_is_valid("another-token", value, now=now)
    expires, _, mac = value.partition(".")
    assert not auth.session_is_valid(TOKEN, f"{int(expires) + 3600}.{mac}", now=now)
    assert not auth.session_is_valid(TOKEN, "garbage", now=now)


async def test_forged_or_expired_cookies_are_refused(live_app: Any) -> None:
    stale = auth.issue_session(TOKEN, now=time.time() - auth.SESSION_SECONDS - 5)
    async with live_app(api_token=TOKEN) as live:
        for value in (stale, auth.issue_session("not-the-token"), "123.abc"):
            async with httpx.AsyncClient(
                base_url=live.base_url, cookies={auth.SESSION_COOKIE: value}
            ) as http:
                assert (await http.get("/")).status_code == 303


async def test_forms_need_the_csrf_token(live_app: Any) -> None:
    async with live_app() as live, client(live) as http:
        csrf = await csrf_from(http, "/ui/dnc")
        missing = await http.post("/ui/dnc", data={"phone": "+14155550123"})
        wrong = await http.post("/ui/dnc", data={"phone": "+14155550123", "csrf_token": "x" * 43})
        good = await http.post("/ui/dnc", data={"phone": "+14155550123", "csrf_token": csrf})
        by_header = await http.post(
            "/ui/dnc/remove", data={"phone": "+14155550123"}, headers={"X-CSRF-Token": csrf}
        )
    assert missing.status_code == 403
    assert "reload the page" in missing.json()["detail"]
    assert wrong.status_code == 403
    assert good.status_code == 303
    assert by_header.status_code == 303


async def test_a_cross_site_post_without_the_cookie_fails(live_app: Any) -> None:
    """Another site can copy a token from nowhere, and its request carries no SameSite cookie."""
    async with live_app() as live:
        async with client(live) as http:
            csrf = await csrf_from(http, "/ui/dnc")
        async with client(live) as other_site:
            response = await other_site.post(
                "/ui/simulator/calls",
                data={"csrf_token": csrf},
                headers={"Origin": "https://x.test"},
            )
    assert response.status_code == 403


CRAFTED_SESSIONS = [
    "²." + "0" * 64,  # a digit to str.isdigit(), not to int()
    "9" * 5000 + ".abc",  # past int()'s digit limit
    "99999999999.é" + "a" * 63,  # a far expiry and a MAC that is not ASCII
    "é",
]


def test_crafted_session_values_are_simply_invalid() -> None:
    for value in CRAFTED_SESSIONS:
        assert not auth.session_is_valid(TOKEN, value)


@pytest.mark.parametrize("value", CRAFTED_SESSIONS)
async def test_a_crafted_session_cookie_is_no_session(live_app: Any, value: str) -> None:
    cookie = f"{auth.SESSION_COOKIE}={value}".encode("latin-1")
    stream = {"Cookie": cookie, "Accept": "text/event-stream"}
    async with live_app(api_token=TOKEN) as live, client(live) as http:
        page = await http.get("/", headers={"Cookie": cookie})
        script = await http.get("/ui/calls/x/stream", headers=stream)
    assert page.status_code == 303
    assert page.headers["location"].startswith(auth.LOGIN_PATH)
    assert script.status_code == 401


async def test_a_crafted_csrf_token_is_refused_not_an_error(live_app: Any) -> None:
    odd = "é" + "x" * 42
    cookie = f"{auth.CSRF_COOKIE}={odd}".encode("latin-1")
    async with live_app() as live, client(live) as http:
        page = await http.get("/ui/dnc", headers={"Cookie": cookie})
        form = await http.post(
            "/ui/dnc",
            data={"phone": "+14155550123", "csrf_token": "ü" + "x" * 42},
            headers={"Cookie": cookie},
        )
    assert page.status_code == 200
    assert odd not in page.text  # a cookie of the wrong shape is replaced, not echoed
    assert form.status_code == 403
