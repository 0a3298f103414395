"""Pre-dial checks that live in code, never in a prompt: the callee's local calling hours."""

from __future__ import annotations

from datetime import datetime

from voiceagent.errors import CallRefused
from voiceagent.phone import STRICTER_US_WINDOWS, local_times, us_state
from voiceagent.settings import CallingHours


def check_calling_hours(phone: str, hours: CallingHours, now: datetime) -> None:
    """Raise CallRefused unless it is inside the window in every time zone the number may be in."""
    if hours.unrestricted or hours.start is None or hours.end is None:
        return
    start, end = hours.start, hours.end
    state = us_state(phone)
    if state in STRICTER_US_WINDOWS:
        strict_start, strict_end = STRICTER_US_WINDOWS[state]
        start, end = max(start, strict_start), min(end, strict_end)
    zones = local_times(phone, now)
    if not zones:
        raise CallRefused("the callee's time zone is unknown, so calling hours can't be checked")
    for zone, local in zones:
        if not start <= local < end:
            where = f"{state}, " if state else ""
            raise CallRefused(
                f"outside calling hours: it is {local:%H:%M} for the callee ({where}{zone}); "
                f"calls are allowed {start:%H:%M}-{end:%H:%M} local time"
            )
