"""TTS rows of the behaviour matrix, against a local ElevenLabs server and the official SDK."""

from __future__ import annotations

import struct
from typing import Any

from voiceagent.providers.simulated import EventKind

BUYER = "+14155550101"


def events(live: Any, call: dict[str, Any], kind: EventKind) -> list[Any]:
    return [e for e in live.carrier.transcript(call["twilio_sid"]).events if e.kind is kind]


async def test_lines_are_played_from_the_services_audio(voiced_app: Any) -> None:
    # Generous limits: this checks the audio path, and a loaded machine must not turn a slow
    # synthesis into a <Say> fallback (the fallback has its own tests).
    async with voiced_app(
        llm=False, tts_first_byte_timeout_seconds=6, webhook_budget_seconds=14
    ) as voiced:
        await voiced.warm()
        call = await voiced.live.run_call(BUYER)
        plays = events(voiced.live, call, EventKind.PLAY)
        says = events(voiced.live, call, EventKind.SAY)
        audio = await voiced.live.http.get(plays[0].text.replace(voiced.live.base_url, ""))
    agent = [m for m in call["messages"] if m["role"] == "agent"]
    assert (call["end_reason"], call["outcome"]) == ("completed", "converted")
    assert len(plays) == len(agent)  # every agent line was played, none said by Twilio
    assert says == []
    assert audio.status_code == 200
    assert audio.headers["content-type"] == "audio/wav"
    riff, _, wave, fmt_tag, channels, rate = struct.unpack("<4sI4s8xHHI", audio.content[:28])
    assert (riff, wave, fmt_tag, channels, rate) == (b"RIFF", b"WAVE", 7, 1, 8000)
    assert all(e.data.get("bytes", 1) > 0 for e in plays)


async def test_fixed_lines_are_served_from_the_cache_without_a_tts_request(
    voiced_app: Any,
) -> None:
    async with voiced_app(llm=False) as voiced:
        await voiced.warm()
        warmed = len(voiced.elevenlabs.requests)
        fixed = {r.text for r in voiced.elevenlabs.requests}
        call = await voiced.live.run_call("+14155550106")  # do-not-call after one question
    agent = [m for m in call["messages"] if m["role"] == "agent"]
    live_requests = [r.text for r in voiced.elevenlabs.requests[warmed:]]
    assert call["end_reason"] == "caller_dnc"
    # The opening and the goodbye came from the cache; only the question was synthesised.
    assert [m["stages"]["tts_first_byte"] for m in (agent[0], agent[-1])] == [0.0, 0.0]
    assert live_requests
    assert not fixed & set(live_requests)
    assert " ".join(live_requests) in agent[1]["text"]


async def test_tts_failure_falls_back_to_say_of_the_same_line(voiced_app: Any) -> None:
    async with voiced_app(llm=False) as voiced:
        await voiced.warm()
        voiced.elevenlabs.configure(fail_status=500)
        call = await voiced.live.run_call(BUYER, first_name="Dana")
        says = events(voiced.live, call, EventKind.SAY)
    agent = [m["text"] for m in call["messages"] if m["role"] == "agent"]
    assert (call["end_reason"], call["outcome"]) == ("completed", "converted")
    # Lines not in the cache (the ones that name the lead or answer the caller) were said.
    assert [e.text for e in says] == [t for t in agent if t in {e.text for e in says}]
    assert says


async def test_tts_that_hangs_cannot_hold_a_webhook_past_the_budget(voiced_app: Any) -> None:
    async with voiced_app(llm=False, webhook_budget_seconds=1.0) as voiced:
        await voiced.warm()
        voiced.elevenlabs.configure(hang=True)
        call = await voiced.live.run_call(BUYER, first_name="Dana")
        voiced.elevenlabs.configure(hang=False)
        hooks = events(voiced.live, call, EventKind.WEBHOOK)
        says = events(voiced.live, call, EventKind.SAY)
    assert (call["end_reason"], call["outcome"]) == ("completed", "converted")
    # The first byte never came: the webhook did not wait for the TTS timeout (1.2 s) but
    # answered at the budget with a bridging line, and the redirect picked the turn up.
    # (How close to the budget each answer lands is measured in bench/, not asserted here.)
    bridged = [e for e in hooks if "<Redirect" in str(e.data["twiml"])]
    assert bridged
    assert any("Dana" in e.text for e in says)  # the line that names the lead, said by Twilio
