"""The do-not-call list as a feature: list, add, remove and bulk-import (CSV) numbers.

Every entry keeps where it came from — `caller_request` (with the call's id: the funnel adds
those through `repo.block_number`), `import` or `operator` — and when. The first entry for a
number wins: adding it again changes nothing, so a caller's own request is never relabelled.

An import may hold a million rows while calls are live: the CSV is read and its numbers parsed in
a worker thread, and the numbers are inserted in batches, each its own transaction, so the event
loop (every live call's webhooks) and other writers get their turn between batches.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from voiceagent.db import dnc_repo
from voiceagent.db.engine import Sessions
from voiceagent.db.tables import DncRow, utcnow
from voiceagent.errors import InvalidPhoneNumber
from voiceagent.observability import get_logger
from voiceagent.phone import parse_phone

CALLER_REQUEST, IMPORT, OPERATOR = "caller_request", "import", "operator"
PHONE_COLUMN = "phone"
MAX_INVALID_ECHOED = 100  # a report lists the first bad rows and counts the rest
BATCH = 5_000  # numbers per insert transaction during an import
_LONGEST_NUMBER = 40  # longer cells are not numbers, and are echoed cut to this length


@dataclass(frozen=True)
class InvalidRow:
    row: int  # 1-based record number in the file, the header included: as a spreadsheet counts
    value: str
    reason: str


@dataclass(frozen=True)
class ImportReport:
    added: int
    already_listed: int
    invalid: list[InvalidRow] = field(default_factory=list)  # the first MAX_INVALID_ECHOED
    invalid_count: int = 0  # all of them


async def list_entries(
    *, sessions: Sessions, limit: int, offset: int
) -> tuple[Sequence[DncRow], int]:
    async with sessions() as session:
        return await dnc_repo.list_entries(session=session, limit=limit, offset=offset)


async def add(
    *,
    sessions: Sessions,
    phone: str,
    note: str | None = None,
    source: str = OPERATOR,
    now: datetime | None = None,
    region: str | None = None,
) -> tuple[DncRow, bool]:
    """List one number; return its entry and whether this call added it.

    Raises InvalidPhoneNumber (with the reason) for anything that is not a dialable number.
    A number without a country code is read as one of `region` (DEFAULT_REGION).
    """
    e164 = parse_phone(phone, region)
    async with sessions() as session, session.begin():
        added = await dnc_repo.add_entries(
            session=session, phones=[e164], source=source, note=note, at=now or utcnow()
        )
        entry = await dnc_repo.get_entry(session=session, phone=e164)
    assert entry is not None, "an entry just inserted or found is there"
    if added:
        get_logger().info("dnc_added", phone=e164, source=source)
    return entry, bool(added)


async def remove(*, sessions: Sessions, phone: str, region: str | None = None) -> bool:
    """Take a number off the list; False when it was not on it."""
    e164 = parse_phone(phone, region)
    async with sessions() as session, session.begin():
        removed = await dnc_repo.delete_entry(session=session, phone=e164)
    if removed:
        # Dialling a number again is a compliance decision: leave a trace of it.
        get_logger().warning("dnc_removed", phone=e164)
    return removed


async def import_csv(
    *,
    sessions: Sessions,
    text: str,
    note: str | None = None,
    now: datetime | None = None,
    region: str | None = None,
) -> ImportReport:
    """Add every valid number of a CSV (a `phone` column, or else the first column).

    Batches are committed as they go: an import cut short leaves the numbers listed so far on
    the list (adding them again changes nothing), never a half-written batch.
    """
    valid, invalid, invalid_count = await asyncio.to_thread(_parse_csv, text, region)
    at = now or utcnow()
    added = 0
    for start in range(0, len(valid), BATCH):
        async with sessions() as session, session.begin():
            added += len(
                await dnc_repo.add_entries(
                    session=session,
                    phones=valid[start : start + BATCH],
                    source=IMPORT,
                    note=note,
                    at=at,
                )
            )
    get_logger().info("dnc_imported", added=added, invalid=invalid_count)
    return ImportReport(
        added=added,
        already_listed=len(valid) - added,
        invalid=invalid,
        invalid_count=invalid_count,
    )


def _parse_csv(text: str, region: str | None) -> tuple[list[str], list[InvalidRow], int]:
    """The valid numbers (E.164, duplicates kept), the first bad rows, and how many were bad."""
    valid: list[str] = []
    invalid: list[InvalidRow] = []
    invalid_count = 0
    for row, value in read_phone_column(text):
        try:
            if len(value) > _LONGEST_NUMBER:
                raise InvalidPhoneNumber("longer than any phone number")
            valid.append(parse_phone(value, region))
        except InvalidPhoneNumber as exc:
            invalid_count += 1
            if len(invalid) < MAX_INVALID_ECHOED:
                shown = value if len(value) <= _LONGEST_NUMBER else value[:_LONGEST_NUMBER] + "…"
                invalid.append(InvalidRow(row=row, value=shown, reason=str(exc)))
    return valid, invalid, invalid_count


def read_phone_column(text: str) -> list[tuple[int, str]]:
    """(record number, raw value) of each non-blank record's phone cell.

    The first record is a header when one of its cells is `phone` (any case); that column is
    read. Otherwise every record is data and the first column is read. A record too short to
    have the column yields an empty value, reported as invalid rather than dropped.
    """
    # Old spreadsheets end lines with a bare CR; csv refuses one inside an unquoted field.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    records = [
        (number, cells)
        for number, cells in enumerate(csv.reader(io.StringIO(text), _dialect(text)), start=1)
        if any(cell.strip() for cell in cells)
    ]
    column = 0
    if records:
        header = [cell.strip().lower() for cell in records[0][1]]
        if PHONE_COLUMN in header:
            column = header.index(PHONE_COLUMN)
            records = records[1:]
    return [
        (number, cells[column].strip() if column < len(cells) else "") for number, cells in records
    ]


def _dialect(text: str) -> type[csv.Dialect]:
    # Spreadsheets outside the US often export with semicolons or tabs.
    try:
        return csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        return csv.excel
