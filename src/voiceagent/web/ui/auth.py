"""Who may use the dashboard, and forms that cannot be forged from another site.

With API_TOKEN set, a request is let in by the API's `Authorization: Bearer` header or by a
session cookie: an expiry and a random session id, signed with HMAC keyed by API_TOKEN, so that
every instance accepts a cookie any other instance issued and rotating API_TOKEN logs everyone
out. Logging out revokes the session id in the database, so a copy of the cookie dies with it on
every instance.

CSRF: the session cookie is SameSite=Strict, and every state-changing form also carries a token
(in a hidden field or the X-CSRF-Token header) derived from the session: an HMAC of its id, so
it cannot be set from outside and is worthless with any other session. Before login (the login
form itself) it is an HMAC of a random cookie instead. With no API_TOKEN there is no session and
no secret: the form echoes the random cookie (double submit) and SameSite does the rest.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from datetime import UTC, datetime
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, Response, status

from voiceagent.settings import Settings
from voiceagent.web.deps import get_revocations
from voiceagent.web.inputs import ascii_int
from voiceagent.web.limits import credential_wait, note_credential, too_many_failures

SESSION_COOKIE = "va_session"
CSRF_COOKIE = "va_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SESSION_SECONDS = 12 * 3600
LOGIN_PATH = "/ui/login"
_LATEST_EXPIRY = 10**12  # far past any real expiry; longer digit strings are not even parsed
_CSRF_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")  # token_urlsafe(32)
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{22}")  # token_urlsafe(16)


def _mac(key: str, message: str) -> str:
    return hmac.new(key.encode(), message.encode(), hashlib.sha256).hexdigest()


def issue_session(api_token: str, *, now: float | None = None) -> str:
    expires = int(now if now is not None else time.time()) + SESSION_SECONDS
    body = f"{expires}.{secrets.token_urlsafe(16)}"
    return f"{body}.{_mac(api_token, f'dashboard-session:{body}')}"


def parse_session(
    api_token: str, value: str, *, now: float | None = None
) -> tuple[str, int] | None:
    """The session id and expiry of a cookie we signed that has not expired; else None.

    A cookie is whatever a client sends: any text, any length. Anything that is not our own
    shape is no session, never an error. Revocation is checked apart (it needs the database).
    """
    expires_text, _, rest = value.partition(".")
    session_id, _, mac = rest.partition(".")
    expires = ascii_int(expires_text, high=_LATEST_EXPIRY)
    if expires is None or expires < (now if now is not None else time.time()):
        return None
    if not _SESSION_ID.fullmatch(session_id):
        return None
    if not _same(mac, _mac(api_token, f"dashboard-session:{expires_text}.{session_id}")):
        return None
    return session_id, expires


def session_is_valid(api_token: str, value: str, *, now: float | None = None) -> bool:
    return parse_session(api_token, value, now=now) is not None


def api_token(request: Request) -> str | None:
    settings: Settings = request.app.state.settings
    return None if settings.api_token is None else settings.api_token.get_secret_value()


def _same(given: str, expected: str) -> bool:
    """Constant-time, and for any text: `compare_digest` refuses non-ASCII `str`s with an error."""
    return secrets.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


def token_matches(expected: str, given: str) -> bool:
    return _same(given, expected)


def has_bearer(request: Request) -> bool:
    expected = api_token(request)
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return expected is not None and scheme.lower() == "bearer" and token_matches(expected, given)


async def _live_session(request: Request, expected: str) -> bool:
    """A signed, unexpired, not revoked session cookie; remembered for the CSRF token."""
    parsed = parse_session(expected, request.cookies.get(SESSION_COOKIE, ""))
    if parsed is None:
        return False
    return not await get_revocations(request).is_revoked(parsed[0])


async def require_operator(request: Request) -> None:
    expected = api_token(request)
    if expected is None:
        return
    retry = credential_wait(request)
    if retry:
        raise too_many_failures(retry)
    if request.headers.get("authorization"):
        ok = has_bearer(request)
        note_credential(request, ok=ok)  # a wrong token is a guess, whatever cookie comes along
        if ok:
            return
    elif await _live_session(request, expected):
        return
    if request.headers.get("hx-request"):
        # htmx swaps error bodies nowhere; this header makes it load the login page instead.
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, headers={"HX-Redirect": LOGIN_PATH})
    accept = request.headers.get("accept", "")
    if request.method == "GET" and "text/event-stream" not in accept:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        location = f"{LOGIN_PATH}?next={quote(target, safe='')}"
        raise HTTPException(status.HTTP_303_SEE_OTHER, headers={"Location": location})
    raise HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        detail=f"log in at {LOGIN_PATH} or send Authorization: Bearer <API_TOKEN>",
        headers={"WWW-Authenticate": "Bearer"},
    )


async def revoke(request: Request) -> None:
    """Log this browser's session out everywhere: its id is refused from now on."""
    expected = api_token(request)
    parsed = (
        None
        if expected is None
        else parse_session(expected, request.cookies.get(SESSION_COOKIE, ""))
    )
    if parsed is None:
        return
    session_id, expires = parsed
    await get_revocations(request).revoke(
        session_id, expires_at=datetime.fromtimestamp(expires, UTC)
    )


def _nonce(request: Request) -> str:
    """The browser's random CSRF cookie; minted on first use and set by `page()`."""
    existing = request.cookies.get(CSRF_COOKIE, "")
    if _CSRF_SHAPE.fullmatch(existing):
        return existing
    minted: str | None = getattr(request.state, "csrf_minted", None)
    if minted is None:
        minted = secrets.token_urlsafe(32)
        request.state.csrf_minted = minted
    return minted


def _csrf_for(request: Request, nonce: str) -> str:
    expected = api_token(request)
    if expected is None:
        return nonce  # no secret to sign with: a plain double submit
    parsed = parse_session(expected, request.cookies.get(SESSION_COOKIE, ""))
    binding = f"session:{parsed[0]}" if parsed is not None else f"anonymous:{nonce}"
    digest = hmac.new(expected.encode(), f"csrf:{binding}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def csrf_token(request: Request) -> str:
    """The token forms must echo: tied to the session, or before login to the CSRF cookie."""
    return _csrf_for(request, _nonce(request))


def remember_csrf(request: Request, response: Response) -> None:
    minted: str | None = getattr(request.state, "csrf_minted", None)
    if minted is not None:
        # Readable by no script and sent by no other site; the page carries its own token.
        response.set_cookie(
            CSRF_COOKIE,
            minted,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )


async def check_csrf(request: Request) -> None:
    if has_bearer(request):
        return  # a bearer header is never sent by a browser on another site's behalf
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent:
        field = (await request.form()).get(CSRF_FIELD, "")
        sent = field if isinstance(field, str) else ""
    if not _CSRF_SHAPE.fullmatch(cookie) or not sent or not _same(sent, _csrf_for(request, cookie)):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail="the form's security token is missing or stale: reload the page and retry",
        )


def safe_next(target: str | None) -> str:
    """Only a path on this site, so the login form cannot bounce anyone elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


Operator = Depends(require_operator)
CsrfChecked = Depends(check_csrf)
