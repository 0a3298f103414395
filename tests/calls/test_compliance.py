"""Calling hours are checked in code, in the callee's local time, before any real dial."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from voiceagent.calls.compliance import check_calling_hours
from voiceagent.errors import CallRefused
from voiceagent.settings import CallingHours

FEDERAL = CallingHours.parse("08:00-21:00")
SAN_FRANCISCO = "+14155550123"  # America/Los_Angeles: UTC-8 in November
MIAMI = "+13055550123"  # Florida: 08:00-20:00 by state law, America/New_York


def at_utc(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 24, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(("utc_hour", "allowed"), [(15, False), (16, True), (4, True), (5, False)])
def test_window_is_the_callees_local_time(utc_hour: int, allowed: bool) -> None:
    # 16:00 UTC is 08:00 in San Francisco; 05:00 UTC is 21:00 there.
    if allowed:
        check_calling_hours(SAN_FRANCISCO, FEDERAL, at_utc(utc_hour))
    else:
        with pytest.raises(CallRefused, match="outside calling hours"):
            check_calling_hours(SAN_FRANCISCO, FEDERAL, at_utc(utc_hour))


def test_a_stricter_state_window_applies() -> None:
    # 20:30 in Miami: inside the federal window, outside Florida's.
    with pytest.raises(CallRefused, match="FL"):
        check_calling_hours(MIAMI, FEDERAL, at_utc(1, 30))
    check_calling_hours(MIAMI, FEDERAL, at_utc(0, 30))  # 19:30 local


def test_any_turns_the_check_off() -> None:
    check_calling_hours(SAN_FRANCISCO, CallingHours.parse("any"), at_utc(11))


@pytest.mark.parametrize("text", ["8-21", "21:00-08:00", "25:00-26:00", "soon"])
def test_malformed_windows_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"HH:MM|before|not a time"):
        CallingHours.parse(text)
