"""The do-not-call page: list and search, add one number, remove one, import a CSV file."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, UploadFile, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from voiceagent.calls import dnc
from voiceagent.calls.dashboard import Dashboard
from voiceagent.errors import InvalidPhoneNumber
from voiceagent.phone import mask_phone
from voiceagent.web.deps import Service
from voiceagent.web.inputs import ascii_int
from voiceagent.web.ui.auth import CsrfChecked, Operator
from voiceagent.web.ui.calls import page_number
from voiceagent.web.ui.render import page

router = APIRouter(dependencies=[Operator])
PAGE_SIZE = 50
MAX_IMPORT_BYTES = 2_000_000


TOO_LARGE = f"That file is over {MAX_IMPORT_BYTES // 1_000_000} MB: split it and import each part."
REFUSED_URL = "/ui/dnc?refused=too_large"  # where UploadLimit sends a browser that posts more


def _refusal(params: dict[str, str]) -> str | None:
    return TOO_LARGE if params.get("refused") == "too_large" else None


def _notice(params: dict[str, str]) -> str | None:
    # Built from known codes and counts only, so nothing typed into a URL is echoed back.
    def count(name: str) -> int:
        return ascii_int(params.get(name)) or 0

    match params.get("done"):
        case "added":
            return "Number added: it will not be called again."
        case "already":
            return "That number was already on the list."
        case "removed":
            return "Number removed from the list."
        case "imported":
            return (
                f"Import finished: {count('added')} added, {count('already')} already listed, "
                f"{count('invalid')} not valid numbers (skipped)."
            )
    return None


async def _list_page(
    request: Request, service: Service, *, error: str | None = None, code: int = 200
) -> HTMLResponse:
    q = request.query_params.get("q", "").strip()[:32]
    number = page_number(request.query_params.get("page"))
    reads = Dashboard(service.ctx)
    rows, total = await reads.dnc_entries(q=q, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)
    values = {
        "title": "Do-not-call list",
        "rows": rows,
        "total": total,
        "q": q,
        "page": number,
        "has_next": number * PAGE_SIZE < total,
        "notice": _notice(dict(request.query_params)),
        "error": error or _refusal(dict(request.query_params)),
        "region": service.ctx.settings.default_region,
    }
    return page(request, "dnc.html", values, status_code=code)


@router.get("/ui/dnc", response_class=HTMLResponse)
async def dnc_page(request: Request, service: Service) -> HTMLResponse:
    return await _list_page(request, service)


@router.post("/ui/dnc", dependencies=[CsrfChecked], response_model=None)
async def add_number(
    request: Request, service: Service, phone: Annotated[str, Form(max_length=40)]
) -> Response:
    try:
        _, added = await dnc.add(
            sessions=service.ctx.sessions, phone=phone, region=service.ctx.settings.default_region
        )
    except InvalidPhoneNumber as exc:
        return await _list_page(request, service, error=str(exc), code=422)
    done = "added" if added else "already"
    return RedirectResponse(f"/ui/dnc?done={done}", status.HTTP_303_SEE_OTHER)


@router.post("/ui/dnc/remove", dependencies=[CsrfChecked], response_model=None)
async def remove_number(
    request: Request, service: Service, phone: Annotated[str, Form(max_length=40)]
) -> Response:
    try:
        removed = await dnc.remove(
            sessions=service.ctx.sessions, phone=phone, region=service.ctx.settings.default_region
        )
    except InvalidPhoneNumber:
        removed = False
    if not removed:
        error = f"{mask_phone(phone)} is not on the list."
        return await _list_page(request, service, error=error, code=404)
    return RedirectResponse("/ui/dnc?done=removed", status.HTTP_303_SEE_OTHER)


@router.post("/ui/dnc/import", dependencies=[CsrfChecked], response_model=None)
async def import_numbers(request: Request, service: Service, file: UploadFile) -> Response:
    data = await file.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        return await _list_page(request, service, error=TOO_LARGE, code=413)
    try:
        text = data.decode("utf-8-sig")  # Excel's UTF-8 export starts with a byte-order mark
    except UnicodeDecodeError as exc:
        error = (
            f"That file is not UTF-8 text (byte {exc.start}): save it as CSV UTF-8 and "
            "import it again."
        )
        return await _list_page(request, service, error=error, code=422)
    report = await dnc.import_csv(
        sessions=service.ctx.sessions, text=text, region=service.ctx.settings.default_region
    )
    target = (
        f"/ui/dnc?done=imported&added={report.added}&already={report.already_listed}"
        f"&invalid={report.invalid_count}"
    )
    return RedirectResponse(target, status.HTTP_303_SEE_OTHER)
