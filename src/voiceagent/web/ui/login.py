"""Log in with API_TOKEN once; the browser then holds an HTTP-only, SameSite=Strict session."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from voiceagent.web.limits import credential_wait, note_credential
from voiceagent.web.ui import auth
from voiceagent.web.ui.render import page

router = APIRouter()


@router.get("/ui/login", response_class=HTMLResponse, response_model=None)
async def login_page(request: Request, next: str = "/") -> Response:
    if auth.api_token(request) is None:
        return RedirectResponse("/", status.HTTP_303_SEE_OTHER)
    return page(
        request, "login.html", {"title": "Log in", "next": auth.safe_next(next), "bare": True}
    )


@router.post("/ui/login", dependencies=[auth.CsrfChecked], response_model=None)
async def log_in(
    request: Request,
    token: Annotated[str, Form(max_length=500)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    expected = auth.api_token(request)
    if expected is None:
        return RedirectResponse("/", status.HTTP_303_SEE_OTHER)
    retry = credential_wait(request)
    if retry:
        values = {"title": "Log in", "next": auth.safe_next(next), "wait": retry, "bare": True}
        answer = page(request, "login.html", values, status_code=status.HTTP_429_TOO_MANY_REQUESTS)
        answer.headers["Retry-After"] = str(retry)
        return answer
    ok = auth.token_matches(expected, token.strip())
    note_credential(request, ok=ok)
    if not ok:
        values = {"title": "Log in", "next": auth.safe_next(next), "error": True, "bare": True}
        return page(request, "login.html", values, status_code=status.HTTP_401_UNAUTHORIZED)
    response = RedirectResponse(auth.safe_next(next), status.HTTP_303_SEE_OTHER)
    response.set_cookie(
        auth.SESSION_COOKIE,
        auth.issue_session(expected),
        max_age=auth.SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/ui/logout", dependencies=[auth.CsrfChecked])
async def log_out(request: Request) -> RedirectResponse:
    await auth.revoke(request)
    response = RedirectResponse(auth.LOGIN_PATH, status.HTTP_303_SEE_OTHER)
    response.delete_cookie(auth.SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response
