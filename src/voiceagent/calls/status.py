"""A call's status, in our spelling (SPEC), and which ones are final."""

from __future__ import annotations

from enum import StrEnum


class CallStatus(StrEnum):
    QUEUED = "queued"
    RINGING = "ringing"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    TRANSFERRED = "transferred"
    FAILED = "failed"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    CANCELED = "canceled"


# A call in one of these never changes status again (a transferred call stays transferred).
FINISHED = frozenset(
    {
        CallStatus.COMPLETED,
        CallStatus.TRANSFERRED,
        CallStatus.FAILED,
        CallStatus.BUSY,
        CallStatus.NO_ANSWER,
        CallStatus.CANCELED,
    }
)
# How far along a live call is: a late "ringing" never moves an answered call back.
RANK: dict[str, int] = {CallStatus.QUEUED: 0, CallStatus.RINGING: 1, CallStatus.IN_PROGRESS: 2}
