"""Background jobs the service runs on a timer (retention, stale calls): one loop for all."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any


async def every(
    interval: float, job: Callable[[], Awaitable[None]], *, first_delay: float, name: str, log: Any
) -> None:
    """Run `job` after `first_delay` seconds, then every `interval`, until cancelled.

    A failed run is logged as `<name>_failed` and never ends the loop: the next run retries.
    """
    delay = first_delay
    while True:
        await asyncio.sleep(delay)
        delay = interval
        try:
            await job()
        except Exception as exc:
            log.error(f"{name}_failed", error=f"{type(exc).__name__}: {exc}")
