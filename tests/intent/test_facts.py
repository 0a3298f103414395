"""Facts from one utterance: headcounts, choices, email addresses, and counts said back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voiceagent.intent.facts import (
    Count,
    extract_choice,
    extract_count,
    extract_email,
    number_words,
    spoken_count,
)

UNITS = ("people", "employees", "staff", "folks", "guys", "of us", "workers", "on payroll")


# --- extract_count ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "low", "high", "approximate"),
    [
        ("40", 40, 40, 40, False),
        ("forty", 40, 40, 40, False),
        ("forty five", 45, 45, 45, False),
        ("forty-five", 45, 45, 45, False),
        ("a hundred and twenty", 120, 120, 120, False),
        ("one hundred twenty", 120, 120, 120, False),
        ("twelve hundred", 1200, 1200, 1200, False),
        ("two thousand five hundred", 2500, 2500, 2500, False),
        ("1,200", 1200, 1200, 1200, False),
        ("a dozen", 12, 12, 12, False),
        ("half a dozen", 6, 6, 6, False),
        ("a couple dozen", 24, 24, 24, True),
        ("a couple", 2, 2, 2, True),
        ("two or three", 2, 2, 3, True),
        ("50-60", 55, 50, 60, True),
        ("fifty to sixty", 55, 50, 60, True),
        ("between fifty and sixty", 55, 50, 60, True),
        ("like fifty sixty", 55, 50, 60, True),
        ("two to three hundred", 250, 200, 300, True),
        ("sixty", 60, 60, 60, False),
        ("around 60", 60, 60, 60, True),
        ("about forty", 40, 40, 40, True),
        ("roughly 40", 40, 40, 40, True),
        ("maybe thirty", 30, 30, 30, True),
        ("40ish", 40, 40, 40, True),
        ("forty ish", 40, 40, 40, True),
        ("forty or so", 40, 40, 40, True),
        ("give or take fifty", 50, 50, 50, True),
        ("fifty give or take", 50, 50, 50, True),
        ("uh we're at like sixty right now", 60, 60, 60, True),
        ("just one", 1, 1, 1, False),
    ],
)
def test_expected_number(text: str, value: int, low: int, high: int, approximate: bool) -> None:
    count = extract_count(text, units=UNITS, expected=True)
    assert count is not None
    assert (count.value, count.low, count.high, count.approximate) == (
        value,
        low,
        high,
        approximate,
    )


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("we're like 40 people", 40),
        ("we are like forty people", 40),
        ("we have 12 employees", 12),
        ("twelve hundred employees", 1200),
        ("a couple dozen guys", 24),
        ("a couple of guys", 2),
        ("half a dozen people", 6),
        ("staff of 40", 40),
        ("we got 40 full time employees", 40),
        ("40 on payroll", 40),
        ("about 35 40 people", 37),
        ("since 2019 we have 25 people", 25),
        ("ive been here 3 years and we have 25 staff", 25),
        ("we were 20 people now we are 40 people", 40),
        ("just me", 1),
        ("its only me", 1),
        ("me and two others", 3),
        ("me plus four guys", 5),
        ("just the two of us", 2),
        ("the three of us", 3),
        ("me and my partner", 2),
        ("1,200 people", 1200),
    ],
)
def test_count_next_to_a_unit(text: str, value: int) -> None:
    count = extract_count(text, units=UNITS)
    assert count is not None
    assert count.value == value


@pytest.mark.parametrize(
    "text",
    [
        "I've used it for 3 years",
        "we have twelve",  # not asked for, and no unit
        "we started in 2019",
        "call me at 3 pm",
        "it costs $500",
        "",
        "not sure",
    ],
)
def test_no_count_when_not_expected(text: str) -> None:
    assert extract_count(text, units=UNITS) is None


@pytest.mark.parametrize(
    "text",
    [
        "I've used it for 3 years",
        "in 2019",
        "since 2019",
        "at 3 pm",
        "3:30",
        "$500",
        "five hundred dollars",
        "about 20 percent",
        "the 12th",
        "nineteen ninety nine",
        "a few",
        "a few people",
        "dozens",
        "hundreds of people",
        "the one we use",
        "no idea",
        "call me at 4155550123",
    ],
)
def test_not_a_headcount_even_when_expected(text: str) -> None:
    assert extract_count(text, units=UNITS, expected=True) is None


def test_unit_beats_a_bare_number_when_expected() -> None:
    count = extract_count("we have 40 people and 3 offices", units=UNITS, expected=True)
    assert count is not None
    assert count.value == 40


def test_heard_quotes_the_words() -> None:
    count = extract_count("um we're like forty people", units=UNITS)
    assert count == Count(40, 40, 40, True, "like forty people")
    assert extract_count("me and two others", units=UNITS) == Count(
        3, 3, 3, False, "me and two others"
    )


@given(st.integers(min_value=1, max_value=999_999))
def test_digits_with_people_round_trip(n: int) -> None:
    count = extract_count(f"we have {n} people", units=("people",))
    assert count == Count(n, n, n, False, f"{n} people")


@given(st.integers(min_value=0, max_value=999_999))
def test_words_round_trip(n: int) -> None:
    # Our own digits->words, read back: the spoken form and the reader agree.
    words = number_words(n).replace("-", " ")
    count = extract_count(f"{words} people", units=("people",))
    assert count is not None
    assert count.value == n


# --- extract_choice -----------------------------------------------------------------------------

PAYROLL = {
    "spreadsheets": ["spreadsheet", "excel", "google sheets"],
    "QuickBooks": ["quickbooks", "quick books"],
    "by hand": ["by hand", "paper", "manually"],
    "Gusto": ["gusto"],
    "ADP": ["adp"],
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("we use excel", "spreadsheets"),
        ("Excel.", "spreadsheets"),
        ("google sheets mostly", "spreadsheets"),
        ("spreadsheets", "spreadsheets"),
        ("QuickBooks.", "QuickBooks"),
        ("quick books", "QuickBooks"),
        ("quick-books online", "QuickBooks"),
        ("honestly just paper", "by hand"),
        ("we do it all manually", "by hand"),
        ("a d p", "ADP"),
        ("gusto's fine", "Gusto"),
        ("we don't use excel, we use gusto", "Gusto"),
        ("we dont use excel we use gusto", "Gusto"),
        ("not quickbooks but gusto", "Gusto"),
        ("we used to use excel now gusto", "Gusto"),
        ("switched from quickbooks to gusto", "Gusto"),
        ("quickbooks instead of excel", "QuickBooks"),
        ("no we use excel", "spreadsheets"),
        ("i dont know we use excel i think", "spreadsheets"),
        ("we use excel and quickbooks", "QuickBooks"),
    ],
)
def test_choice(text: str, expected: str) -> None:
    assert extract_choice(text, PAYROLL) == expected


@pytest.mark.parametrize(
    "text",
    [
        "nothing really",
        "we never used quickbooks",
        "we don't use excel",
        "no excel",
        "excellent question",  # word boundaries: not "excel"
        "",
    ],
)
def test_no_choice(text: str) -> None:
    assert extract_choice(text, PAYROLL) is None


# --- extract_email ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("jo.smith@acme.com", "jo.smith@acme.com"),
        ("my email is Jo.Smith@Acme.com.", "jo.smith@acme.com"),
        ("jo dot smith at acme dot com", "jo.smith@acme.com"),
        ("its jo dot smith at acme dot com", "jo.smith@acme.com"),
        ("j o smith at gmail dot com", "josmith@gmail.com"),
        ("sure its jsmith at gmail", "jsmith@gmail.com"),
        ("jo underscore smith at acme dot co dot uk", "jo_smith@acme.co.uk"),
        ("jo dash smith at acme dot io", "jo-smith@acme.io"),
        ("send it to j dot doe at a c m e dot io", "j.doe@acme.io"),
        ("jo dot smith at sign acme dot com", "jo.smith@acme.com"),
        ("you can reach me at jo at gmail dot com", "jo@gmail.com"),
        ("jo smith at acme.com", None),  # "jo smith": jo.smith? josmith? too unsure
        ("it's john smith at gmail dot com", None),
        ("jsmith at acme", None),
        ("john at", None),
        ("at acme dot com", None),
        ("meet me at five", None),
        ("i'm at lunch", None),
        ("", None),
    ],
)
def test_email(text: str, expected: str | None) -> None:
    assert extract_email(text) == expected


# --- spoken_count -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "spoken"),
    [
        (Count(40, 40, 40, False, ""), "forty"),
        (Count(40, 40, 40, True, ""), "about forty"),
        (Count(55, 50, 60, True, ""), "fifty to sixty"),
        (Count(1200, 1200, 1200, False, ""), "twelve hundred"),
        (Count(1, 1, 1, False, ""), "one"),
        (Count(45, 45, 45, False, ""), "forty-five"),
        (Count(120, 120, 120, False, ""), "one hundred twenty"),
        (Count(2500, 2500, 2500, False, ""), "twenty-five hundred"),
        (Count(2000, 2000, 2000, False, ""), "two thousand"),
        (Count(12345, 12345, 12345, False, ""), "twelve thousand three hundred forty-five"),
    ],
)
def test_spoken_count(count: Count, spoken: str) -> None:
    assert spoken_count(count) == spoken
