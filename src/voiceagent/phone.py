"""Phone numbers: E.164 with `phonenumbers`, masked for logs, local time for calling hours."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import geocoder, timezone

from voiceagent.errors import InvalidPhoneNumber

# US states whose telemarketing law is stricter than the federal 08:00-21:00 window.
STRICTER_US_WINDOWS: dict[str, tuple[time, time]] = {
    "FL": (time(8), time(20)),  # Florida Telephone Solicitation Act
    "OK": (time(8), time(20)),  # Oklahoma Telephone Solicitation Act
    "MD": (time(8), time(20)),  # Maryland Stop the Spam Calls Act
    "MS": (time(8), time(20)),
    "WA": (time(8), time(20)),
    "CT": (time(9), time(20)),
}


def parse_phone(text: str, region: str | None = None) -> str:
    """Return the number in E.164, or raise InvalidPhoneNumber saying why.

    A number with + and its country code is read as such; one without is read as a national
    number of `region` (DEFAULT_REGION: "(415) 555-0173" in the US), and refused when no region
    is given. `phonenumbers` knows each region's national prefixes and lengths.
    """
    raw = text.strip()
    international = raw.startswith("+")
    if not international and region is None:
        raise InvalidPhoneNumber(
            f"{raw!r} is not in international format: start with + and the country code"
        )
    try:
        number = phonenumbers.parse(raw, None if international else region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"{raw!r} is not a phone number: {exc._msg}") from None
    if not phonenumbers.is_valid_number(number):
        if international:
            raise InvalidPhoneNumber(f"{raw!r} is not a valid, dialable number")
        raise InvalidPhoneNumber(
            f"{raw!r} is not a valid {region} number; elsewhere, write it in international "
            "format: + and the country code"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def known_region(code: str) -> bool:
    """Whether `code` is a region `phonenumbers` can read national numbers of ("US", "GB")."""
    return code in phonenumbers.SUPPORTED_REGIONS


def mask_phone(e164: str) -> str:
    """`+14155550123` -> `+1••••••0123`: enough to tell calls apart in a log, no more."""
    if len(e164) <= 6:
        return "•" * len(e164)
    return e164[:2] + "•" * (len(e164) - 6) + e164[-4:]


def local_times(e164: str, now: datetime) -> list[tuple[str, time]]:
    """The callee's possible local times (a number can span several time zones)."""
    number = phonenumbers.parse(e164, None)
    found: list[tuple[str, time]] = []
    for name in timezone.time_zones_for_number(number):
        try:
            found.append((name, now.astimezone(ZoneInfo(name)).time()))
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return found


def us_state(e164: str) -> str | None:
    """Two-letter US state of the number's area code, when the geocoder knows it."""
    number = phonenumbers.parse(e164, None)
    if number.country_code != 1:
        return None
    # The geocoder says "San Francisco, CA" for some area codes and "Florida" for others.
    place = geocoder.description_for_number(number, "en")
    tail = place.rsplit(",", 1)[-1].strip()
    if len(tail) == 2 and tail.isupper():
        return tail
    return _US_STATES.get(tail)


_US_STATES = {
    "Alabama": "AL",
    "Alaska": "AK",
    "Arizona": "AZ",
    "Arkansas": "AR",
    "California": "CA",
    "Colorado": "CO",
    "Connecticut": "CT",
    "Delaware": "DE",
    "Florida": "FL",
    "Georgia": "GA",
    "Hawaii": "HI",
    "Idaho": "ID",
    "Illinois": "IL",
    "Indiana": "IN",
    "Iowa": "IA",
    "Kansas": "KS",
    "Kentucky": "KY",
    "Louisiana": "LA",
    "Maine": "ME",
    "Maryland": "MD",
    "Massachusetts": "MA",
    "Michigan": "MI",
    "Minnesota": "MN",
    "Mississippi": "MS",
    "Missouri": "MO",
    "Montana": "MT",
    "Nebraska": "NE",
    "Nevada": "NV",
    "New Hampshire": "NH",
    "New Jersey": "NJ",
    "New Mexico": "NM",
    "New York": "NY",
    "North Carolina": "NC",
    "North Dakota": "ND",
    "Ohio": "OH",
    "Oklahoma": "OK",
    "Oregon": "OR",
    "Pennsylvania": "PA",
    "Rhode Island": "RI",
    "South Carolina": "SC",
    "South Dakota": "SD",
    "Tennessee": "TN",
    "Texas": "TX",
    "Utah": "UT",
    "Vermont": "VT",
    "Virginia": "VA",
    "Washington": "WA",
    "West Virginia": "WV",
    "Wisconsin": "WI",
    "Wyoming": "WY",
    "Washington D.C.": "DC",
}
