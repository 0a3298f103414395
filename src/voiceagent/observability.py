"""Structured logs (one JSON line per event) and the Prometheus metrics."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram

# A run of digits with the separators people write numbers with: "+1 415-555-0173",
# "(415) 555-0160", "16505550198", "/dnc/4155550123". With a "+" it is a number from 7 digits
# on; without one, from 9 (a date has 8), and not when it is part of a word, a UUID or a time.
_NUMBER = re.compile(
    r"\+\d[\d\s().-]{0,30}\d"
    r"|(?<![\w.+-])\(?\d[\d\s().-]{0,30}\d(?![\w:-])"
)
_UNMASKED_KEYS = frozenset({"timestamp", "level", "event"})


def _mask(match: re.Match[str]) -> str:
    found = match.group(0)
    international = found.startswith("+")
    digits = sum(ch.isdigit() for ch in found)
    if not (7 if international else 9) <= digits <= 15:
        return found
    shown_first = 1 if international else 0  # "+1••••••0123", as mask_phone writes E.164
    out, seen = [], 0
    for ch in found:
        if ch.isdigit():
            seen += 1
            ch = ch if seen <= shown_first or seen > digits - 4 else "•"
        out.append(ch)
    return "".join(out)


def mask_numbers(value: Any) -> Any:
    """`value` with every phone number in it masked, inside dicts and lists too."""
    if isinstance(value, str):
        return _NUMBER.sub(_mask, value)
    if isinstance(value, dict):
        return {key: mask_numbers(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask_numbers(item) for item in value]
    return value


def _mask_numbers(
    _logger: Any, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Phone numbers are personal data: no log line carries one in clear, in any format."""
    for key, value in event.items():
        if key not in _UNMASKED_KEYS:
            event[key] = mask_numbers(value)
    return event


def configure_logging(level: str = "INFO", fmt: str = "json", file: TextIO | None = None) -> None:
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _mask_numbers,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
        ),
        logger_factory=structlog.PrintLoggerFactory(file=file or sys.stderr),
        cache_logger_on_first_use=False,
    )


def get_logger() -> Any:
    return structlog.get_logger("voiceagent")


_MS_BUCKETS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 750, 1000, 1500, 1800, 2500, 5000, 10000)


class Metrics:
    """Per-app metrics in their own registry, so several apps (tests) never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.turns = Counter(
            "voiceagent_turns", "Webhook turns answered", ["state"], registry=self.registry
        )
        self.transitions = Counter(
            "voiceagent_transitions",
            "Funnel transitions",
            ["from_state", "to_state"],
            registry=self.registry,
        )
        self.calls_ended = Counter(
            "voiceagent_calls_ended", "Calls ended", ["end_reason"], registry=self.registry
        )
        self.stage_ms = Histogram(
            "voiceagent_stage_ms",
            "Time spent per stage of a turn, in milliseconds",
            ["stage"],
            buckets=_MS_BUCKETS,
            registry=self.registry,
        )
        self.budget_exceeded = Counter(
            "voiceagent_webhook_budget_exceeded",
            "Turns that hit WEBHOOK_BUDGET_SECONDS",
            registry=self.registry,
        )
