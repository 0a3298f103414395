"""When a caller asks to be called back: the time they named, in their own time zone.

"Call me tomorrow afternoon" has to become a datetime the dialler can schedule, and a phrase the
agent can repeat back so the caller can correct it ("tomorrow, Monday, in the afternoon"). The
words are the callee's, so they are read in the callee's zone (from the phone number), never the
server's. Recogniser text spells numbers as words and drops punctuation, and callers name parts
of days ("after lunch") that no date library knows, so the phrases are read by a small grammar
here; parsedatetime, imported lazily, only resolves calendar dates ("march 12th", "3/12").
Anything vague ("some other time", "after the holidays") is None: the agent should ask again
rather than book a guess. This runs on a live turn, so it stays in the low milliseconds.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers

__all__ = ["Callback", "callee_zone", "parse_callback"]


@dataclass(frozen=True)
class Callback:
    """A callback time: `at` (aware, callee's zone), the words that named it, how to say it."""

    at: datetime
    heard: str
    spoken: str


# --- the callee's zone --------------------------------------------------------------------------

_NANP_FALLBACK = ZoneInfo("America/New_York")
# A +1 number the geocoder places in this many zones or more is non-geographic (toll-free).
_NON_GEOGRAPHIC_ZONES = 5


def callee_zone(phone: str) -> ZoneInfo:
    """The callee's time zone from their number: the first of its zones, else a fallback.

    Falls back to America/New_York for +1 numbers (unknown or toll-free, which phonenumbers maps
    to every North American zone) and to UTC otherwise.
    """
    # Lazy: voiceagent.phone loads phonenumbers' geocoder (~0.5 s), which parsing times never needs.
    from voiceagent.phone import local_times

    fallback = _NANP_FALLBACK if phone.strip().startswith("+1") else ZoneInfo("UTC")
    try:
        names = [name for name, _ in local_times(phone.strip(), datetime(2000, 1, 1, tzinfo=UTC))]
    except phonenumbers.NumberParseException:
        return fallback
    if not names or (fallback is _NANP_FALLBACK and len(names) >= _NON_GEOGRAPHIC_ZONES):
        return fallback
    return ZoneInfo(names[0])


# --- normalising recogniser text ----------------------------------------------------------------

_UNITS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_TEENS = (
    *("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen"),
    *("eighteen", "nineteen"),
)
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50}
_CARDINALS = {word: n for n, word in enumerate(_UNITS + _TEENS, start=1)}
_ORDINALS = {
    word: n
    for n, word in enumerate(
        re.findall(
            r"\w+",
            "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
            "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth",
        ),
        start=1,
    )
}
_ORDINAL_TENS = {"twentieth": 20, "thirtieth": 30}
_SUFFIX = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd", 31: "st"}

_SPELLINGS = (
    (re.compile(r"\b([ap])\s*\.?\s*m\b\.?"), r"\1m"),  # "p.m.", "p m" -> "pm"
    (re.compile(r"\bo\s*'?\s*clock\b"), "oclock"),
    (re.compile(r"(?<=\d)(?=(?:am|pm)\b)"), " "),  # "3pm" -> "3 pm"
    (re.compile(r"\b(?:tmrw|tomorow|tommorow|tommorrow|to morrow)\b"), "tomorrow"),
    (re.compile(r"\b(mon|tues|wednes|thurs|fri|satur|sun)day'?s\b"), r"\1day"),
    (re.compile(r"\bmid day\b"), "midday"),
    (re.compile(r"\bafter noon\b"), "afternoon"),
)


def _ordinal_suffix(n: int) -> str:
    return f"{n}{_SUFFIX.get(n, 'th')}"


def _digitise(words: list[str]) -> list[tuple[str, str]]:
    """Number words up to 59 become digits, ordinal words "12th": ("10 30", "ten thirty").

    Each output word is paired with the words it came from, so `heard` can quote the caller.
    """
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(words):
        word, nxt = words[i], words[i + 1] if i + 1 < len(words) else ""
        pair = f"{word} {nxt}"
        if word in _TENS and nxt in _ORDINALS and _ORDINALS[nxt] < 10:
            out.append((_ordinal_suffix(_TENS[word] + _ORDINALS[nxt]), pair))
        elif word in _TENS and nxt in _CARDINALS and _CARDINALS[nxt] < 10:
            out.append((str(_TENS[word] + _CARDINALS[nxt]), pair))
        elif word in ("oh", "o") and nxt in _CARDINALS and _CARDINALS[nxt] < 10 and out:
            out.append((f"0{_CARDINALS[nxt]}", pair))  # "three oh five" -> 3 05
        else:
            out.append((_single_word_number(word), word))
            i += 1
            continue
        i += 2
    return out


def _single_word_number(word: str) -> str:
    if word in _CARDINALS:
        return str(_CARDINALS[word])
    if word in _TENS:
        return str(_TENS[word])
    if word in _ORDINALS:
        return _ordinal_suffix(_ORDINALS[word])
    if word in _ORDINAL_TENS:
        return _ordinal_suffix(_ORDINAL_TENS[word])
    return word


def _normalise(text: str) -> list[tuple[str, str]]:
    """(normalised word, the caller's words) pairs: lowercase, digits, one spelling per word."""
    text = unicodedata.normalize("NFKC", text).lower().replace("\u2019", "'")
    for pattern, replacement in _SPELLINGS:
        text = pattern.sub(replacement, text)
    text = re.sub(r"[^\w:/\s]", " ", text.replace("'", ""))
    return _digitise(text.split())


# --- the pieces of a callback phrase ------------------------------------------------------------

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = (
    r"january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec"
)
_DAY_NUMBER = r"(?:the )?(\d{1,2}) ?(?:st|nd|rd|th)?"


@dataclass(frozen=True)
class _Part:
    """A part of the day: its default time, the window it covers, how it is said."""

    default: time
    ends: time
    today: str  # "this afternoon"
    other: str  # "afternoon", as in "Friday afternoon"
    tomorrow: str  # "in the afternoon", as in "tomorrow, Monday, in the afternoon"


_PARTS = {
    "morning": _Part(time(10), time(12), "this morning", "morning", "in the morning"),
    "first thing": _Part(time(9), time(10), "first thing", "first thing", "first thing"),
    "before lunch": _Part(time(11), time(12), "before lunch", "before lunch", "before lunch"),
    "lunch": _Part(time(12), time(13), "at lunchtime", "at lunchtime", "at lunchtime"),
    "after lunch": _Part(time(13, 30), time(15), "after lunch", "after lunch", "after lunch"),
    "afternoon": _Part(time(14), time(17), "this afternoon", "afternoon", "in the afternoon"),
    "end of day": _Part(
        time(16, 30), time(17, 30), "at the end of the day", "end of day", "at the end of the day"
    ),
    "evening": _Part(time(18), time(20, 30), "this evening", "evening", "in the evening"),
    "tonight": _Part(time(18), time(20, 30), "tonight", "evening", "in the evening"),
}
_PART_PATTERNS = (
    (re.compile(r"\b1st thing(?: in the morning)?\b"), "first thing"),
    (re.compile(r"\bbefore lunch\b"), "before lunch"),
    (re.compile(r"\bafter lunch(?: ?time)?\b"), "after lunch"),
    (re.compile(r"\b(?:at|around|over|during) lunch(?: ?time)?\b|\blunch ?time\b"), "lunch"),
    (
        re.compile(r"\b(?:the )?end of (?:the )?(?:day|business day)\b|\bclose of business\b"),
        "end of day",
    ),
    (re.compile(r"\b(?:this |in the |early |late |mid )*morning\b"), "morning"),
    (re.compile(r"\b(?:this |in the |early |late |mid )*afternoon\b"), "afternoon"),
    (re.compile(r"\b(?:this |in the |early )*evening\b|\bafter work\b"), "evening"),
    (re.compile(r"\bto ?night\b"), "tonight"),
    (re.compile(r"\b(?:at |this )?night\b"), "evening"),
)
_RELATIVE = re.compile(
    r"\bin (?:about |around |like |maybe )?(?P<n>\d+|an?|a couple(?: of)?|couple(?: of)?|a few"
    r"|half an?) ?(?P<unit>minutes?|mins?|hours?|hrs?|days?|weeks?)(?P<half> and a half)?\b"
    r"|\b(?P<n2>\d+|an?) (?P<unit2>minutes?|hours?) from now\b"
    r"|\bin a (?:little )?(?P<bit>bit|while)\b"
)
_AMOUNTS = {"a": 1.0, "an": 1.0, "couple": 2.0, "few": 3.0, "half": 0.5}
_LATER_TODAY = re.compile(r"\blater (?:on )?today\b")
_TODAY = re.compile(r"\btoday\b")
_TOMORROW = re.compile(r"\b(?:the )?day after tomorrow\b|\btomorrow\b")
_DAY_NAMES = "|".join(_WEEKDAYS)
_NEXT_WEEK_DAY = re.compile(
    rf"\bnext week (?:on )?(?P<a>{_DAY_NAMES})\b|\b(?P<b>{_DAY_NAMES}) next week\b"
)
_WEEKDAY = re.compile(
    rf"\b(?:(?P<mod>next|this coming|coming|this) )?(?P<day>{'|'.join(_WEEKDAYS)})\b"
)
_NEXT_WEEK = re.compile(r"\b(?:early )?next week\b")
_MONTH_DATE = re.compile(
    rf"\b(?:the )?(?P<d1>\d{{1,2}}) ?(?:st|nd|rd|th)? of (?P<m1>{_MONTHS})\b"
    rf"|\b(?P<m2>{_MONTHS}) {_DAY_NUMBER}\b"
)
_NUMERIC_DATE = re.compile(r"\b\d{1,2}/\d{1,2}\b")
_ORDINAL_DATE = re.compile(r"\b(?:on )?the (\d{1,2}) ?(?:st|nd|rd|th)\b|\bon the (\d{1,2})\b")
_CLOCK = re.compile(
    r"\b(?P<prep>(?:(?:at|around|about|by|after|say|like|maybe|till|until|from) )*)"
    r"(?:(?P<rel>half past|quarter past|quarter after|quarter to|quarter till|quarter of) "
    r"(?P<rh>\d{1,2})|(?P<h>\d{1,2})(?:(?P<colon>:)(?P<cm>[0-5]\d)| (?P<sm>[0-5]\d))?)"
    r"(?: ?(?P<mer>am|pm|oclock))?\b"
)
_NOON = re.compile(r"\b(?:at |around |by )?(?:12 )?(?:noon|midday)\b")


class _Scan:
    """The phrase pieces found so far; each match is blanked out so no word is read twice."""

    def __init__(self, words: list[tuple[str, str]], today: date) -> None:
        self.words = words
        self.text = " ".join(word for word, _ in words)
        self.masked = self.text
        self.today = today
        self.spans: list[tuple[int, int]] = []
        self.day: date | None = None
        self.day_kind = ""  # "today", "tomorrow", "weekday", "next", "next week", "date"
        self.part: str | None = None
        self.clock: time | None = None
        self.wait: timedelta | None = None  # "in an hour"
        self.later_today = False

    def find(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        match = pattern.search(self.masked)
        if match is not None:
            start, end = match.span()
            self.masked = self.masked[:start] + " " * (end - start) + self.masked[end:]
            self.spans.append((start, end))
        return match

    def set_day(self, day: date, kind: str) -> None:
        if self.day is None:
            self.day, self.day_kind = day, kind

    def follows_a_day(self, start: int) -> bool:
        """Whether the words just before `start` named a day ("tuesday 3", "tomorrow 10 30")."""
        return any(end in (start, start - 1) for _, end in self.spans)

    @property
    def heard(self) -> str:
        """The caller's own words from the first piece found to the last."""
        start = min(span[0] for span in self.spans)
        end = max(span[1] for span in self.spans)
        quoted, offset = [], 0
        for word, original in self.words:
            if offset < end and offset + len(word) > start:
                quoted.append(original)
            offset += len(word) + 1
        return " ".join(quoted)


def _scan_relative(scan: _Scan) -> None:
    """ "in an hour", "in 20 minutes", "in a couple of days", "in a bit"."""
    match = scan.find(_RELATIVE)
    if match is None:
        return
    if match["bit"]:
        scan.wait = timedelta(minutes=30 if match["bit"] == "bit" else 60)
        return
    words = (match["n"] or match["n2"] or "a").removesuffix(" of").split()
    amount = float(words[-1]) if words[-1].isdigit() else _AMOUNTS.get(words[-1], 1.0)
    if words[0] == "half":
        amount = 0.5
    if match["half"]:
        amount += 0.5
    unit = (match["unit"] or match["unit2"] or "")[:2]
    if unit in ("mi", "ho", "hr"):
        scan.wait = timedelta(minutes=amount * (1 if unit == "mi" else 60))
    else:
        scan.set_day(scan.today + timedelta(days=round(amount * (1 if unit == "da" else 7))), "in")


def _next_monday(today: date) -> date:
    return today + timedelta(days=7 - today.weekday())


def _scan_day(scan: _Scan) -> None:
    """Which day: "tomorrow", "next tuesday", "on the 12th", "march 3rd", "next week"."""
    today = scan.today
    if scan.find(_LATER_TODAY):
        scan.later_today = True
        scan.set_day(today, "today")
    if match := scan.find(_TOMORROW):
        after = 2 if "after" in match[0] else 1
        scan.set_day(today + timedelta(days=after), "tomorrow" if after == 1 else "date")
    if match := scan.find(_NEXT_WEEK_DAY):
        weekday = _WEEKDAYS.index(match["a"] or match["b"])
        scan.set_day(_next_monday(today) + timedelta(days=weekday), "next")
    if scan.find(_NEXT_WEEK):
        scan.set_day(_next_monday(today), "next week")
    if (match := scan.find(_MONTH_DATE)) and (
        day := _calendar_date(f"{match['m1'] or match['m2']} {match['d1'] or match[4]}", today)
    ):
        scan.set_day(day, "date")
    if (match := scan.find(_NUMERIC_DATE)) and (day := _calendar_date(match[0], today)):
        scan.set_day(day, "date")
    if (match := scan.find(_ORDINAL_DATE)) and (
        day := _day_of_month(int(match[1] or match[2]), today)
    ):
        scan.set_day(day, "date")
    if match := scan.find(_WEEKDAY):
        scan.set_day(*_weekday(today, _WEEKDAYS.index(match["day"]), match["mod"] or ""))
    if scan.find(_TODAY):
        scan.set_day(today, "today")


def _weekday(today: date, weekday: int, modifier: str) -> tuple[date, str]:
    """ "tuesday" is the coming one (a week on if today is Tuesday); "next tuesday", next week's."""
    if modifier == "next":
        return _next_monday(today) + timedelta(days=weekday), "next"
    ahead = (weekday - today.weekday()) % 7
    if ahead == 0 and modifier != "this":
        ahead = 7
    return today + timedelta(days=ahead), "weekday"


def _day_of_month(day: int, today: date) -> date | None:
    """The next date (today or later) that falls on this day of the month."""
    if not 1 <= day <= 31:
        return None
    year, month = today.year, today.month
    for _ in range(3):
        try:
            candidate = date(year, month, day)
        except ValueError:
            candidate = None
        if candidate is not None and candidate >= today:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


@cache
def _constants() -> Any:
    import parsedatetime  # lazy: only calendar dates need it

    return parsedatetime.Constants()


def _calendar_date(phrase: str, today: date) -> date | None:
    """ "march 12", "3/12" (US order): the next such date, via parsedatetime."""
    import parsedatetime

    # A Calendar keeps parse state, so each call gets its own; the constants are shared.
    calendar = parsedatetime.Calendar(_constants(), version=parsedatetime.VERSION_CONTEXT_STYLE)
    parsed, context = calendar.parseDT(phrase, sourceTime=datetime.combine(today, time()))
    if not context.hasDate:
        return None
    found: date = parsed.date()
    return found if found >= today else found.replace(year=found.year + 1)


def _scan_part(scan: _Scan) -> None:
    """Which part of the day: "morning", "after lunch", "tonight"."""
    for pattern, part in _PART_PATTERNS:
        if scan.find(pattern):
            scan.part = scan.part or part
            if part == "tonight":
                scan.set_day(scan.today, "today")


_AFTERNOON_PARTS = frozenset({"after lunch", "afternoon", "end of day", "evening", "tonight"})
_MORNING_PARTS = frozenset({"morning", "first thing", "before lunch"})


def _scan_clock(scan: _Scan) -> None:
    """A clock time: "at 3", "3 pm", "ten thirty", "half past two", "noon"."""
    if scan.find(_NOON):
        scan.clock = time(12)
        return
    for match in _CLOCK.finditer(scan.masked):
        plain = not (match["prep"] or match["rel"] or match["colon"] or match["mer"])
        if plain and not scan.follows_a_day(match.start()):
            continue
        clock = _clock(match, scan.part)
        if clock is not None:
            scan.find(re.compile(re.escape(match[0])))
            scan.clock = clock
            return


def _clock(match: re.Match[str], part: str | None) -> time | None:
    hour = int(match["rh"] or match["h"])
    minute = int(match["cm"] or match["sm"] or 0)
    relative = match["rel"] or ""
    if relative == "half past":
        minute = 30
    elif relative.startswith("quarter"):
        minute = 45 if relative.split()[1] in ("to", "till", "of") else 15
        hour = hour - 1 if minute == 45 else hour
    if hour > 23 or (hour > 12 and match["mer"] in ("am", "pm")):
        return None
    return time(_hour_of_day(hour, match["mer"] or "", part), minute)


def _hour_of_day(hour: int, meridian: str, part: str | None) -> int:
    """12-hour clock to 24: "3" is 3 pm, "9" is 9 am, unless "am"/"pm" or the part says so."""
    if hour > 12 or hour == 0:
        return hour
    if meridian == "am":
        return hour % 12
    if meridian == "pm" or part in _AFTERNOON_PARTS:
        return hour % 12 + 12
    if part in _MORNING_PARTS or 8 <= hour <= 12:
        return hour
    return hour + 12  # 1 to 7 with nothing said: business hours, so afternoon


# --- resolving and saying it back ---------------------------------------------------------------

_DATE_DEFAULT = time(10)
_LATER_TODAY_WAIT = timedelta(hours=2)
_SOONEST = timedelta(minutes=15)


def _round_up(moment: datetime, minutes: int) -> datetime:
    """The first whole `minutes` step at or after `moment`."""
    if moment.second or moment.microsecond:
        moment = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return moment + timedelta(minutes=-moment.minute % minutes)


def _say_time(moment: time) -> str:
    if moment == time(12):
        return "noon"
    hour = moment.hour % 12 or 12
    minutes = f":{moment.minute:02d}" if moment.minute else ""
    return f"{hour}{minutes} {'am' if moment.hour < 12 else 'pm'}"


def _ordinal(n: int) -> str:
    return _ordinal_suffix(n) if n not in (11, 12, 13) else f"{n}th"


def _say_day(day: date, kind: str, today: date) -> str:
    """ "tomorrow, Monday,", "Friday", "next Tuesday", "Wednesday the 12th"."""
    weekday = _WEEKDAYS[day.weekday()].capitalize()
    if day == today + timedelta(days=1):
        return f"tomorrow, {weekday},"
    if kind == "next":
        return f"next {weekday}"
    if kind == "next week":
        return f"next week, {weekday},"
    if kind != "date" and (day - today).days < 7:
        return weekday
    if day.month == today.month:
        return f"{weekday} the {_ordinal(day.day)}"
    return f"{weekday}, {day.strftime('%B')} {_ordinal(day.day)},"


def _say(at: datetime, kind: str, part: str | None, clock_said: bool, today: date) -> str:
    """How the agent repeats the time back, at the caller's own granularity."""
    clock = _say_time(at.time())
    if at.date() == today:
        if part:
            return f"{_PARTS[part].today} at {clock}" if clock_said else _PARTS[part].today
        return f"today at {clock}"
    day = _say_day(at.date(), kind, today)
    if part and not clock_said:
        plain = not day.endswith(",") and " the " not in day  # "Friday", "next Tuesday"
        phrase = _PARTS[part].other if plain else _PARTS[part].tomorrow
        return f"{day} {phrase}"
    return f"{day} at {clock}"


def _resolve(scan: _Scan, now: datetime) -> tuple[datetime, str] | None:
    zone, today = now.tzinfo, now.date()
    if scan.wait is not None:
        at = _round_up((now.astimezone(UTC) + scan.wait).astimezone(zone), 5)
        day = "" if at.date() == today else f"{_say_day(at.date(), '', today)} "
        return at, f"{scan.heard}, {day}at {_say_time(at.time())}".replace(",,", ",")
    today_alone = scan.day_kind == "today" and now.time() >= _DATE_DEFAULT
    if (scan.later_today or today_alone) and scan.part is None and scan.clock is None:
        at = _round_up(now + _LATER_TODAY_WAIT, 30)
        return at, f"later today, around {_say_time(at.time())}"
    if scan.day is None and scan.part is None and scan.clock is None:
        return None
    return _resolve_day(scan, now)


def _resolve_day(scan: _Scan, now: datetime) -> tuple[datetime, str]:
    today, part = now.date(), scan.part
    day = scan.day or today
    clock_said = scan.clock is not None
    wanted = scan.clock or (_PARTS[part].default if part else _DATE_DEFAULT)
    at = datetime.combine(day, wanted, tzinfo=now.tzinfo)
    if at <= now and part and not clock_said and day == today and now.time() < _PARTS[part].ends:
        at, clock_said = _round_up(now + _SOONEST, 30), True  # "this afternoon", said at 3 pm
    while at <= now:
        at = datetime.combine(at.date() + timedelta(days=1), wanted, tzinfo=now.tzinfo)
    return at, _say(at, scan.day_kind, part, clock_said, today)


def parse_callback(text: str, *, now: datetime, zone: ZoneInfo) -> Callback | None:
    """The time the caller asks to be called back, in their zone `zone`; None if none is named.

    `now` is an aware datetime (UTC). Defaults: morning 10:00, afternoon 14:00, evening 18:00,
    a day alone 10:00, "after lunch" 13:30. A time already past rolls to the next day; the
    result is never in the past.
    """
    local_now = now.astimezone(zone)
    scan = _Scan(_normalise(text), local_now.date())
    for step in (_scan_relative, _scan_day, _scan_part, _scan_clock):
        step(scan)
    if not scan.spans:
        return None
    resolved = _resolve(scan, local_now)
    if resolved is None:
        return None
    at, spoken = resolved
    return Callback(at=at, heard=scan.heard, spoken=spoken)
