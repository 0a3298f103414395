"""No log line carries a phone number in clear, whatever its format or wherever it sits."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from voiceagent.db.engine import create_engine
from voiceagent.observability import configure_logging, get_logger


def logged(**fields: Any) -> dict[str, Any]:
    sink = io.StringIO()
    configure_logging("INFO", "json", file=sink)
    try:
        get_logger().warning("probe", **fields)
    finally:
        configure_logging("WARNING", "console")
    line: dict[str, Any] = json.loads(sink.getvalue())
    return line


@pytest.mark.parametrize(
    ("value", "digits"),
    [
        ("'(415) 555-0160' is not in international format", "4155550160"),
        ("'16505550198' is not in international format", "16505550198"),
        ("+1 415-555-0173", "14155550173"),
        ("+44 20 7946 0958", "442079460958"),
        ("/dnc/+14155550123", "14155550123"),
        ("/dnc/4155550123", "4155550123"),
        ("415.555.0199", "4155550199"),
    ],
)
def test_numbers_in_any_format_are_masked(value: str, digits: str) -> None:
    line = logged(error=value, nested={"path": value, "seen": [value]})
    for shown in (line["error"], line["nested"]["path"], line["nested"]["seen"][0]):
        assert digits not in re.sub(r"\D", "", shown)
        assert re.sub(r"\D", "", shown).endswith(digits[-4:])  # to tell calls apart


@pytest.mark.parametrize(
    "value",
    [
        "2026-01-02",
        "call 3f2a1b4c-1234-5678-9abc-def012345678 took 1234.5 ms",
        "12345678-1234-5678-9abc-def012345678",
        "CA0123456789abcdef0123456789abcdef",
        "request body over 65536 bytes",
    ],
)
def test_what_is_not_a_number_stays_readable(value: str) -> None:
    assert logged(detail=value)["detail"] == value


def test_the_timestamp_is_never_masked() -> None:
    assert "•" not in logged()["timestamp"]


async def test_database_errors_do_not_print_bound_parameters(tmp_path: Any) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (phone TEXT UNIQUE)"))
            await conn.execute(text("INSERT INTO t VALUES (:p)"), {"p": "+14155550123"})
        with pytest.raises(IntegrityError) as failed:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t VALUES (:p)"), {"p": "+14155550123"})
    finally:
        await engine.dispose()
    assert "4155550123" not in str(failed.value)
