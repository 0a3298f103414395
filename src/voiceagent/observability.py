"""Structured logs (one JSON line per event) and the Prometheus metrics."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog
from prometheus_client import CollectorRegistry, Counter, Histogram

from voiceagent.phone import mask_phone

_E164 = re.compile(r"\+\d{7,15}")


def _mask_numbers(
    _logger: Any, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Phone numbers are personal data: no log line carries one in clear."""
    for key, value in event.items():
        if isinstance(value, str) and "+" in value:
            event[key] = _E164.sub(lambda m: mask_phone(m.group(0)), value)
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
