"""One JSON log line per turn and per transition, with the call id and no phone number in clear."""

from __future__ import annotations

import io
import json
import re
from typing import Any

from voiceagent.observability import configure_logging


async def test_turns_and_transitions_are_logged_as_json_without_numbers(live_app: Any) -> None:
    sink = io.StringIO()
    configure_logging("INFO", "json", file=sink)
    try:
        async with live_app() as live:
            call = await live.run_call("+14155550101")
    finally:
        configure_logging("WARNING", "console")
    lines = [json.loads(line) for line in sink.getvalue().splitlines()]
    mine = [line for line in lines if line.get("call_id") == call["call_id"]]
    turns = [line for line in mine if line["event"] == "turn"]
    transitions = [line for line in mine if line["event"] == "transition"]

    agent_turns = [m for m in call["messages"] if m["role"] == "agent"]
    assert len(turns) == len(agent_turns)
    assert {"state", "intent", "latency_ms", "turn"} <= turns[1].keys()
    assert [(t["from"], t["to"]) for t in transitions] == [
        (t["from_state"], t["to_state"]) for t in call["transitions"]
    ]
    assert all("intent" in t and "latency_ms" in t for t in transitions)
    assert "+14155550101" not in sink.getvalue()
    placed = next(line for line in mine if line["event"] == "call_placed")
    assert placed["phone"].endswith("0101")
    assert "•" in placed["phone"]


async def test_refused_numbers_and_paths_are_logged_masked(live_app: Any) -> None:
    sink = io.StringIO()
    configure_logging("INFO", "json", file=sink)
    try:
        async with live_app() as live:
            for phone in ("(415) 555-0160", "16505550198", "+1415"):
                await live.http.post("/call/start", json={"phone": phone})
            await live.http.delete("/dnc/4155550123")
            await live.http.delete("/dnc/+1 (415) 555-0124")
    finally:
        configure_logging("WARNING", "console")
    lines = [json.loads(line) for line in sink.getvalue().splitlines()]
    assert lines
    for line in lines:
        for value in line.values():
            digits = re.sub(r"\D", "", str(value))
            for number in ("4155550160", "16505550198", "4155550123", "4155550124"):
                assert number not in digits, line
