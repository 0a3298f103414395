"""Several stateless instances on one database: two real server processes behind a
round-robin proxy carry calls with no lost or doubled turn, and survive a kill -9."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from tests.conftest import CLIENT_TIMEOUT, GUARD, until
from twilio.request_validator import RequestValidator

import voiceagent
from voiceagent.emulators.twilio_rest import TwilioRestEmulator
from voiceagent.providers.simulated import HANG_UP, AnswerMode, CalleeDirectory, Reply
from voiceagent.web.server import serve_in_background

CALLEE = "+14155550142"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Instance:
    port: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "voiceagent", "serve", "--port", str(self.port)],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        process = self.process
        async with httpx.AsyncClient(timeout=CLIENT_TIMEOUT) as http:

            async def answering() -> bool:
                if process.poll() is not None:
                    raise RuntimeError(f"instance exited: {self.log.read_text()[-2000:]}")
                try:
                    return (await http.get(f"{self.url}/healthz")).status_code == 200
                except httpx.TransportError:
                    return False

            await until(answering, what=f"the instance on port {self.port} to answer")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class RoundRobin:
    """The load balancer: each request to the next instance; a dead one is skipped."""

    instances: Sequence[Instance]
    served: list[tuple[str, int]] = field(default_factory=list)  # (path+query, instance index)
    _turns: count[int] = field(default_factory=count)

    async def forward(self, request: Request) -> Response:
        body = await request.body()
        headers = {
            k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")
        }
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        first = next(self._turns)
        async with httpx.AsyncClient(timeout=CLIENT_TIMEOUT) as http:
            for attempt in range(len(self.instances)):
                index = (first + attempt) % len(self.instances)
                try:
                    answer = await http.request(
                        request.method,
                        self.instances[index].url + path,
                        content=body,
                        headers=headers,
                    )
                except httpx.TransportError:
                    continue
                self.served.append((path, index))
                return Response(
                    answer.content,
                    status_code=answer.status_code,
                    media_type=answer.headers.get("content-type"),
                )
        return Response(b"no instance", status_code=502)

    @property
    def app(self) -> Starlette:
        return Starlette(
            routes=[Route("/{path:path}", self.forward, methods=["GET", "POST", "DELETE"])]
        )


@asynccontextmanager
async def two_instances(
    database_url: str, tmp_path: Path, directory: CalleeDirectory
) -> AsyncIterator[tuple[TwilioRestEmulator, RoundRobin, httpx.AsyncClient]]:
    twilio = TwilioRestEmulator(directory)
    instances = [Instance(free_port(), {}, tmp_path / f"instance-{i}.log") for i in range(2)]
    proxy = RoundRobin(instances)
    async with (
        serve_in_background(lambda _: twilio.app) as twilio_server,  # type: ignore[arg-type, return-value]
        serve_in_background(lambda _: proxy.app) as proxy_server,  # type: ignore[arg-type, return-value]
    ):
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "OPENAI_"))},
            # The instances run the code under test: a relative PYTHONPATH (`src`) would not
            # survive the tests' change of directory, and an installed copy would answer.
            "PYTHONPATH": os.pathsep.join(
                [str(Path(voiceagent.__file__).parents[1]), os.environ.get("PYTHONPATH", "")]
            ),
            "DATABASE_URL": database_url,
            "PUBLIC_BASE_URL": proxy_server.base_url,
            "TWILIO_ACCOUNT_SID": twilio.account_sid,
            "TWILIO_AUTH_TOKEN": twilio.auth_token,
            "TWILIO_PHONE_NUMBER": "+14155550100",
            "TWILIO_API_BASE_URL": twilio_server.base_url,
            "CALLING_HOURS": "any",
            "LOG_LEVEL": "WARNING",
        }
        env.pop("ELEVENLABS_API_KEY", None)
        for instance in instances:
            instance.env = env
        try:
            # One after the other: the second finds the schema the first migrated.
            for instance in instances:
                await instance.start()
            async with httpx.AsyncClient(
                base_url=proxy_server.base_url, timeout=CLIENT_TIMEOUT
            ) as http:
                yield twilio, proxy, http
        finally:
            for instance in instances:
                instance.stop()
            await twilio.carrier.aclose()


async def start_and_finish(
    twilio: TwilioRestEmulator, http: httpx.AsyncClient, phone: str
) -> dict[str, Any]:
    started = await http.post("/call/start", json={"phone": phone})
    assert started.status_code == 202, started.text
    body = started.json()
    await twilio.carrier.wait_for(body["twilio_sid"], timeout=GUARD)
    return await final_call(http, body["call_id"])


async def final_call(http: httpx.AsyncClient, call_id: str) -> dict[str, Any]:
    """The stored call once it is over: the final status callback may still be on its way."""

    async def ended() -> dict[str, Any] | None:
        try:
            response = await http.get(f"/calls/{call_id}")
        except httpx.TransportError:
            return None  # a keep-alive connection dropped on a loaded machine: ask again
        assert response.status_code == 200, response.text
        call: dict[str, Any] = response.json()
        return call if call["status"] in ("completed", "transferred", "failed") else None

    return await until(ended, what=f"call {call_id} to end")


def turns_of(call: dict[str, Any]) -> list[int]:
    return [m["seq"] for m in call["messages"]]


async def test_two_instances_carry_calls_with_no_lost_or_doubled_turn(
    database_url: str, tmp_path: Path
) -> None:
    directory = CalleeDirectory.bundled()
    async with two_instances(database_url, tmp_path, directory) as (twilio, proxy, http):
        calls = await asyncio.gather(
            *(start_and_finish(twilio, http, phone) for phone in ("+14155550101",) * 3)
        )
        transcripts = [twilio.carrier.transcript(call["twilio_sid"]) for call in calls]
    for call, transcript in zip(calls, transcripts, strict=True):
        assert (call["end_reason"], call["outcome"]) == ("completed", "converted")
        webhooks = [e for e in transcript.events if e.kind == "webhook"]
        replies = [e for e in transcript.events if e.kind == "reply"]
        agent = [m for m in call["messages"] if m["role"] == "agent"]
        caller = [m for m in call["messages"] if m["role"] == "caller"]
        assert len(agent) == len(webhooks)  # one stored line per answered webhook
        assert [m["text"] for m in caller] == [e.text for e in replies]  # none lost, none twice
        assert turns_of(call) == list(range(1, len(call["messages"]) + 1))
    voice = [index for path, index in proxy.served if path.startswith("/twilio/voice")]
    assert set(voice) == {0, 1}  # the turns really alternated between the instances


async def test_a_retry_racing_the_original_on_two_instances_is_stored_once(
    database_url: str, tmp_path: Path
) -> None:
    directory = CalleeDirectory.bundled()
    async with two_instances(database_url, tmp_path, directory) as (twilio, _, http):
        call = await start_and_finish(twilio, http, "+14155550103")  # ends early: 2 turns
        path = f"/twilio/voice?call_id={call['call_id']}&turn=1"
        params = {"CallSid": call["twilio_sid"], "SpeechResult": "Sure, go ahead."}
        signature = RequestValidator(twilio.auth_token).compute_signature(
            str(http.base_url).rstrip("/") + path, params
        )
        answers = await asyncio.gather(
            *(
                http.post(path, data=params, headers={"X-Twilio-Signature": signature})
                for _ in range(4)
            )
        )
        after = (await http.get(f"/calls/{call['call_id']}")).json()
    assert {a.status_code for a in answers} == {200}
    assert len({a.text for a in answers}) == 1
    assert after["messages"] == call["messages"]


class _Gate:
    """A callee who, at one reply, waits for the test to say go (while an instance dies)."""

    def __init__(self, replies: list[str], hold_at: int) -> None:
        self.replies, self.hold_at = replies, hold_at
        self.held = asyncio.Event()
        self.go = asyncio.Event()
        self.answers: AnswerMode = "answer"
        self._next = 0

    async def reply(self, heard: Sequence[str]) -> Reply:
        if self._next == self.hold_at:
            self.held.set()
            await self.go.wait()
        if self._next >= len(self.replies):
            return HANG_UP
        self._next += 1
        return self.replies[self._next - 1]


async def test_an_instance_killed_mid_call_loses_nothing(database_url: str, tmp_path: Path) -> None:
    gate = _Gate(
        [
            "Sure, go ahead.",
            "We use QuickBooks.",
            "About twenty people.",
            "That sounds useful.",
            "Yes, book it.",
        ],
        hold_at=2,
    )
    directory = CalleeDirectory.bundled()
    directory.register(CALLEE, gate)
    async with two_instances(database_url, tmp_path, directory) as (twilio, proxy, http):
        started = (await http.post("/call/start", json={"phone": CALLEE})).json()
        await asyncio.wait_for(gate.held.wait(), timeout=GUARD)
        victim = proxy.instances[0]
        victim.kill()  # kill -9 in the middle of the call
        served_before = len(proxy.served)
        gate.go.set()

        def survivor_took_a_turn() -> bool:
            return any(
                path.startswith("/twilio/voice") and index == 1
                for path, index in proxy.served[served_before:]
            )

        await until(survivor_took_a_turn, what="a turn served by the survivor alone")
        await victim.start()  # and the instance comes back
        await twilio.carrier.wait_for(started["twilio_sid"], timeout=GUARD)
        call = await final_call(http, started["call_id"])
    assert (call["end_reason"], call["outcome"]) == ("completed", "converted")
    caller = [m["text"] for m in call["messages"] if m["role"] == "caller"]
    assert caller == gate.replies
    assert [t["to_state"] for t in call["transitions"]] == [
        "INTRO",
        "QUALIFY",
        "PITCH",
        "CLOSE",
        "END",
    ]
