"""The do-not-call API: list, add, remove, bulk-import (CSV). Thin: routes call `calls.dnc`."""

from __future__ import annotations

import csv
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile

from voiceagent.calls import dnc
from voiceagent.db.tables import DncRow
from voiceagent.web.deps import Authorized, Service
from voiceagent.web.inputs import ascii_int, phone_at, refuse
from voiceagent.web.schemas import MAX_OFFSET, ClientInput, Problem

MAX_CSV_BYTES = 5 * 1024 * 1024  # a million numbers fit; a wrong file uploaded by mistake doesn't
_CSV_TYPES = ("text/csv", "text/plain", "application/csv", "application/vnd.ms-excel")

router = APIRouter(prefix="/dnc", tags=["do-not-call"], dependencies=[Authorized])


class DncEntry(BaseModel):
    phone: str
    source: str  # caller_request | import | operator
    call_id: str | None  # the call on which the caller asked, for caller_request
    note: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: DncRow) -> DncEntry:
        return cls(
            phone=row.phone,
            source=row.source,
            call_id=row.call_id,
            note=row.note,
            created_at=row.created_at,
        )


class DncList(BaseModel):
    entries: list[DncEntry]
    total: int


class AddNumber(ClientInput):
    model_config = ConfigDict(extra="forbid")

    phone: str = Field(min_length=1, max_length=32, examples=["+14155550123"])
    note: str | None = Field(default=None, max_length=500)


class InvalidRow(BaseModel):
    row: int
    value: str
    reason: str


class ImportResult(BaseModel):
    added: int
    already_listed: int
    invalid: list[InvalidRow] = Field(
        description=f"the first {dnc.MAX_INVALID_ECHOED} rows that are not valid numbers"
    )
    invalid_count: int = Field(description="how many rows are not valid numbers, in all")


async def csv_upload(request: Request) -> str:
    """The CSV's text, sent as the body (text/csv) or as the one file of a multipart form."""
    declared = ascii_int(request.headers.get("content-length"), high=2**63)
    if declared is not None and declared > MAX_CSV_BYTES + 64 * 1024:
        raise _too_large()
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=10)
        upload = next((v for v in form.values() if isinstance(v, UploadFile)), None)
        if upload is None:
            raise refuse(("body", "file"), "the form carries no CSV file", "missing")
        data = await upload.read(MAX_CSV_BYTES + 1)
    elif kind in _CSV_TYPES:
        received = bytearray()  # not bytes +=, which copies the whole body for every chunk
        async for chunk in request.stream():
            received += chunk
            if len(received) > MAX_CSV_BYTES:
                break
        data = bytes(received)
    else:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            detail="send the CSV as text/csv, or as a file in multipart/form-data",
        )
    if len(data) > MAX_CSV_BYTES:
        raise _too_large()
    try:
        return data.decode("utf-8-sig")  # Excel's UTF-8 export starts with a byte-order mark
    except UnicodeDecodeError as exc:
        raise refuse(("body",), f"the CSV is not UTF-8 text (byte {exc.start})") from None


def _too_large() -> HTTPException:
    return HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE,
        detail=f"the CSV is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB: split it",
    )


CsvText = Annotated[str, Depends(csv_upload)]
PhoneInPath = Annotated[str, Path(min_length=1, max_length=32, examples=["+14155550123"])]
_CSV_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
        },
    }
}


@router.get("")
async def list_numbers(
    service: Service,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> DncList:
    rows, total = await dnc.list_entries(sessions=service.ctx.sessions, limit=limit, offset=offset)
    return DncList(entries=[DncEntry.of(row) for row in rows], total=total)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": DncEntry, "description": "already listed"}},
)
async def add_number(body: AddNumber, service: Service, response: Response) -> DncEntry:
    with phone_at("body", "phone"):
        entry, added = await dnc.add(
            sessions=service.ctx.sessions,
            phone=body.phone,
            note=body.note,
            region=service.ctx.settings.default_region,
        )
    response.status_code = status.HTTP_201_CREATED if added else status.HTTP_200_OK
    return DncEntry.of(entry)


@router.delete(
    "/{phone}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={404: {"model": Problem}},
)
async def remove_number(phone: PhoneInPath, service: Service) -> Response:
    with phone_at("path", "phone"):
        removed = await dnc.remove(
            sessions=service.ctx.sessions, phone=phone, region=service.ctx.settings.default_region
        )
    if not removed:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"{phone} is not on the list")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/import",
    openapi_extra=_CSV_BODY,
    responses={413: {"model": Problem}, 415: {"model": Problem}},
)
async def import_numbers(
    text: CsvText,
    service: Service,
    note: Annotated[str | None, Query(max_length=500)] = None,
) -> ImportResult:
    try:
        report = await dnc.import_csv(
            sessions=service.ctx.sessions,
            text=text,
            note=note,
            region=service.ctx.settings.default_region,
        )
    except csv.Error as exc:
        raise refuse(("body",), f"the CSV cannot be read: {exc}") from None
    return ImportResult.model_validate(report, from_attributes=True)
