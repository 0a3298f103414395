"""parse_callback and callee_zone: a callback time in the callee's zone, said back plainly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voiceagent.intent.when import callee_zone, parse_callback

NEW_YORK = ZoneInfo("America/New_York")
# Sunday 9 March 2025, 10:00 in New York (14:00 UTC): DST began at 02:00 that morning.
SUNDAY_MORNING = datetime(2025, 3, 9, 14, 0, tzinfo=UTC)
# Friday 14 March 2025, 15:00 in New York.
FRIDAY_AFTERNOON = datetime(2025, 3, 14, 19, 0, tzinfo=UTC)


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=NEW_YORK)


@pytest.mark.parametrize(
    ("text", "at", "spoken"),
    [
        ("call me tomorrow", _at(10, 10), "tomorrow, Monday, at 10 am"),
        ("tomorrow afternoon", _at(10, 14), "tomorrow, Monday, in the afternoon"),
        ("try me next week", _at(10, 10), "tomorrow, Monday, at 10 am"),
        ("next Tuesday at 3", _at(11, 15), "next Tuesday at 3 pm"),
        ("tuesday at 3", _at(11, 15), "Tuesday at 3 pm"),
        ("after lunch", _at(9, 13, 30), "after lunch"),
        ("in an hour", _at(9, 11), "in an hour, at 11 am"),
        ("Friday morning", _at(14, 10), "Friday morning"),
        ("later today", _at(9, 12), "later today, around noon"),
        ("around 5", _at(9, 17), "today at 5 pm"),
        ("on the 12th", _at(12, 10), "Wednesday the 12th at 10 am"),
        ("this evening", _at(9, 18), "this evening"),
        ("this afternoon at 2", _at(9, 14), "this afternoon at 2 pm"),
        ("tonight at 7", _at(9, 19), "tonight at 7 pm"),
        ("tomorrow night", _at(10, 18), "tomorrow, Monday, in the evening"),
        ("tomorrow at ten thirty", _at(10, 10, 30), "tomorrow, Monday, at 10:30 am"),
        ("tomorrow 10 30", _at(10, 10, 30), "tomorrow, Monday, at 10:30 am"),
        ("monday at half past two", _at(10, 14, 30), "tomorrow, Monday, at 2:30 pm"),
        ("quarter to four", _at(9, 15, 45), "today at 3:45 pm"),
        ("at 9", _at(10, 9), "tomorrow, Monday, at 9 am"),
        ("at 9 pm", _at(9, 21), "today at 9 pm"),
        ("call me back at 4 p.m.", _at(9, 16), "today at 4 pm"),
        ("call me at like 2 o'clock", _at(9, 14), "today at 2 pm"),
        ("noon tomorrow", _at(10, 12), "tomorrow, Monday, at noon"),
        ("in twenty minutes", _at(9, 10, 20), "in twenty minutes, at 10:20 am"),
        ("in half an hour", _at(9, 10, 30), "in half an hour, at 10:30 am"),
        ("in an hour and a half", _at(9, 11, 30), "in an hour and a half, at 11:30 am"),
        ("in a couple of days", _at(11, 10), "Tuesday at 10 am"),
        ("march twentieth", _at(20, 10), "Thursday the 20th at 10 am"),
        (
            "the 3rd of april",
            datetime(2025, 4, 3, 10, tzinfo=NEW_YORK),
            "Thursday, April 3rd, at 10 am",
        ),
        ("3/20", _at(20, 10), "Thursday the 20th at 10 am"),
        ("thursday the 20th", _at(20, 10), "Thursday the 20th at 10 am"),
        ("first thing wednesday", _at(12, 9), "Wednesday first thing"),
        ("next week tuesday morning", _at(11, 10), "next Tuesday morning"),
        (
            "uh yeah could you try me again next tuesday around three",
            _at(11, 15),
            "next Tuesday at 3 pm",
        ),
        ("today", _at(9, 12), "later today, around noon"),
        ("this morning", _at(9, 10, 30), "this morning at 10:30 am"),
    ],
)
def test_callback_on_a_sunday_morning(text: str, at: datetime, spoken: str) -> None:
    callback = parse_callback(text, now=SUNDAY_MORNING, zone=NEW_YORK)
    assert callback is not None
    assert callback.at == at
    assert callback.at.tzinfo is NEW_YORK
    assert callback.spoken == spoken


@pytest.mark.parametrize(
    ("text", "at", "spoken"),
    [
        ("after lunch", _at(15, 13, 30), "tomorrow, Saturday, after lunch"),
        ("this afternoon", _at(14, 15, 30), "this afternoon at 3:30 pm"),
        ("this morning", _at(15, 10), "tomorrow, Saturday, in the morning"),
        ("at 9", _at(15, 9), "tomorrow, Saturday, at 9 am"),
        ("around 5", _at(14, 17), "today at 5 pm"),
        ("friday", _at(21, 10), "Friday the 21st at 10 am"),
        ("later today", _at(14, 17), "later today, around 5 pm"),
        ("next week", _at(17, 10), "next week, Monday, at 10 am"),
        ("tuesday", _at(18, 10), "Tuesday at 10 am"),
        ("next tuesday", _at(18, 10), "next Tuesday at 10 am"),
        (
            "on the 12th",
            datetime(2025, 4, 12, 10, tzinfo=NEW_YORK),
            "Saturday, April 12th, at 10 am",
        ),
    ],
)
def test_callback_on_a_friday_afternoon(text: str, at: datetime, spoken: str) -> None:
    callback = parse_callback(text, now=FRIDAY_AFTERNOON, zone=NEW_YORK)
    assert callback is not None
    assert (callback.at, callback.spoken) == (at, spoken)


@pytest.mark.parametrize(
    ("text", "heard"),
    [
        ("uh call me tomorrow afternoon please", "tomorrow afternoon"),
        ("try me next Tuesday at three", "next tuesday at three"),
        ("yeah in like an hour", "in like an hour"),
        ("could you do tomorrow at ten thirty", "tomorrow at ten thirty"),
    ],
)
def test_heard_quotes_the_caller(text: str, heard: str) -> None:
    callback = parse_callback(text, now=SUNDAY_MORNING, zone=NEW_YORK)
    assert callback is not None
    assert callback.heard == heard


@pytest.mark.parametrize(
    "text",
    [
        "after the holidays",
        "some other time",
        "call me later",
        "not now",
        "i have two kids",
        "we have 40 people",
        "maybe next year",
        "",
        "no thanks",
    ],
)
def test_no_time_named(text: str) -> None:
    assert parse_callback(text, now=SUNDAY_MORNING, zone=NEW_YORK) is None


def test_read_in_the_callee_zone() -> None:
    # 10:00 in New York is 07:00 in Los Angeles: "at 9" there is still today.
    los_angeles = ZoneInfo("America/Los_Angeles")
    callback = parse_callback("at 9", now=SUNDAY_MORNING, zone=los_angeles)
    assert callback is not None
    assert callback.at == datetime(2025, 3, 9, 9, tzinfo=los_angeles)
    assert callback.spoken == "today at 9 am"


PHRASES = [
    "call me tomorrow",
    "tomorrow afternoon",
    "next week",
    "next tuesday at 3",
    "after lunch",
    "in an hour",
    "friday morning",
    "later today",
    "around 5",
    "on the 12th",
    "this evening",
    "at 9",
    "this morning",
    "today",
    "march 3rd",
]


@given(
    st.sampled_from(PHRASES),
    st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31)),
    st.sampled_from(["America/New_York", "Europe/London", "Asia/Tokyo", "Australia/Sydney"]),
)
def test_never_in_the_past(text: str, naive_now: datetime, zone_name: str) -> None:
    now = naive_now.replace(tzinfo=UTC)
    zone = ZoneInfo(zone_name)
    callback = parse_callback(text, now=now, zone=zone)
    assert callback is not None
    assert callback.at > now
    assert callback.at - now < timedelta(days=400)
    assert callback.at.tzinfo is zone


@pytest.mark.parametrize(
    ("phone", "zone"),
    [
        ("+14155550123", "America/Los_Angeles"),
        ("+12125550123", "America/New_York"),
        ("+13125550123", "America/Chicago"),
        ("+19075550123", "America/Adak"),  # several zones: the first
        ("+18005550199", "America/New_York"),  # toll-free spans every zone: the fallback
        ("+15555550123", "America/New_York"),
        ("+442071838750", "Europe/London"),
        ("+61291234567", "Australia/Sydney"),
        ("+5511987654321", "America/Sao_Paulo"),
        ("not a number", "UTC"),
    ],
)
def test_callee_zone(phone: str, zone: str) -> None:
    assert callee_zone(phone) == ZoneInfo(zone)
