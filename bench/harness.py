"""Shared machinery for the benchmarks: local vendors, the service in its own process, the carrier.

The load generator (this process) runs the OpenAI and ElevenLabs emulators, a Twilio REST
emulator whose simulated carrier plays every call, and the HTTP client that starts calls. The
service runs as `python -m voiceagent serve` in a child process, configured only through its
environment, so its CPU time is measured apart from ours and it runs its real-Twilio code path:
`POST /call/start` -> the `twilio` SDK -> our REST emulator -> signed webhooks from our carrier.

Nothing here talks to anything but 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import sqlite3
import ssl
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

import voiceagent
from voiceagent.emulators.elevenlabs import ElevenLabsBehaviour, ElevenLabsEmulator
from voiceagent.emulators.openai import OpenAIBehaviour, OpenAIEmulator
from voiceagent.emulators.twilio_rest import TwilioRestEmulator
from voiceagent.providers.simulated import (
    CalleeDirectory,
    CallLimits,
    CallTranscript,
    EventKind,
    Expectation,
    Reply,
    SimulatedCarrier,
)
from voiceagent.providers.simulated.callees import AnswerMode, Callee
from voiceagent.web.server import serve_in_background

try:  # where the service keeps its list of the script's fixed lines
    from voiceagent.funnel.states import SCRIPTED_LINES

    FIXED_LINES = frozenset(line.value for line in SCRIPTED_LINES)
except ImportError:  # older trees
    FIXED_LINES = frozenset(
        {"opening", "disclose_ai", "check_presence", "goodbye", "transfer", "cannot_transfer"}
    )

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
FROM_NUMBER = "+14155550100"
BUDGET_SECONDS = 1.8  # WEBHOOK_BUDGET_SECONDS' default; the service runs with its default
TERMINAL = frozenset({"completed", "transferred", "failed", "busy", "no_answer", "canceled"})

Json = dict[str, Any]
Scope = Mapping[str, Any]
Receive = Callable[[], Awaitable[Mapping[str, Any]]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]
Asgi = Callable[[Scope, Receive, Send], Awaitable[None]]


# ---------------------------------------------------------------------------------------------
# Profiles and faults


@dataclass(frozen=True)
class Profile:
    """Delays of the local provider servers."""

    name: str
    llm_first_token: float = 0.3  # seconds to the model's first token
    llm_total: float = 0.6  # seconds to its last token (the rest streamed evenly)
    tts_first_byte: float = 0.7  # seconds to the first audio byte
    tts_realtime: float = 4.0  # then audio streamed at this multiple of real time

    def as_json(self) -> Json:
        return {
            "name": self.name,
            "llm_first_token_s": self.llm_first_token,
            "llm_total_s": self.llm_total,
            "tts_first_byte_s": self.tts_first_byte,
            "tts_realtime_factor": self.tts_realtime,
        }


PROFILES: dict[str, Profile] = {
    # The reference profile: the brief's own measured vendor latencies.
    "reference": Profile("reference"),
    # The model 8 s late: every generated turn must still answer inside the budget.
    "slow-llm": Profile("slow-llm", llm_first_token=8.0, llm_total=8.3),
}


@dataclass(frozen=True)
class Faults:
    """What goes wrong on purpose (all shares drawn from seeded generators)."""

    llm_fail_rate: float = 0.0  # share of chat requests answered with llm_fail_status
    llm_fail_status: int = 503
    tts_fail_rate: float = 0.0  # share of TTS requests answered with tts_fail_status
    tts_fail_status: int = 503
    llm_slow_rate: float = 0.0  # share of chat requests held back llm_slow_seconds first
    llm_slow_seconds: float = 0.0
    tts_slow_rate: float = 0.0  # share of TTS requests held back tts_slow_seconds first
    tts_slow_seconds: float = 0.0
    duplicate_rate: float = 0.0  # share of voice webhooks the carrier sends twice at once

    def as_json(self) -> Json:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


# ---------------------------------------------------------------------------------------------
# Load-generator plumbing


class SlowShare:
    """ASGI wrapper: holds back a seeded share of requests, and counts requests in flight."""

    def __init__(self, app: Asgi) -> None:
        self.app = app
        self.rate = 0.0
        self.seconds = 0.0
        self.active = 0
        self.total = 0
        self.slowed = 0
        self._dice = random.Random(0)

    def configure(self, *, rate: float, seconds: float, seed: int) -> None:
        self.rate, self.seconds = rate, seconds
        self._dice = random.Random(seed)
        self.slowed = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.active += 1
        self.total += 1
        try:
            if self.rate > 0 and self._dice.random() < self.rate:
                self.slowed += 1
                await asyncio.sleep(self.seconds)
            await self.app(scope, receive, send)
        finally:
            self.active -= 1

    async def quiet(self, *, settle: float = 0.6, limit: float = 60.0) -> None:
        """Wait until requests have come and stopped (e.g. the service warming its cache)."""
        deadline = time.monotonic() + limit
        seen, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            if self.total != seen or self.active:
                seen, since = self.total, time.monotonic()
            elif self.total and time.monotonic() - since >= settle:
                return
            await asyncio.sleep(0.05)
        raise TimeoutError(f"still busy after {limit:g} s ({self.active} requests in flight)")


@dataclass
class Exchange:
    """One HTTP request the carrier made, timed at the transport."""

    method: str
    path: str
    status: int
    sent: float
    headers: float
    first_byte: float | None = None
    done: float | None = None


class _TimedStream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, exchange: Exchange) -> None:
        self._inner, self._exchange = inner, exchange

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            if chunk and self._exchange.first_byte is None:
                self._exchange.first_byte = time.monotonic()
            yield chunk
        self._exchange.done = time.monotonic()

    async def aclose(self) -> None:
        await self._inner.aclose()


class TimingTransport(httpx.AsyncBaseTransport):
    """Times every request the carrier makes: sent, headers, first body byte, last byte.

    The carrier downloads a `<Play>` file whole (as Twilio does); the first-byte time is the
    brief's time-to-first-audio, the last byte what Twilio waits for before it plays.
    """

    def __init__(self, shards: int = 64) -> None:
        # httpcore scans every pooled connection on each request: one pool holding a few
        # hundred connections costs the load generator more CPU than everything else it does.
        # Many small pools, picked in turn, keep that scan short (Twilio has no pool limit).
        tls = ssl.create_default_context()  # never used (plain http on loopback); built once
        self._shards = [
            httpx.AsyncHTTPTransport(verify=tls, limits=httpx.Limits(max_connections=None))
            for _ in range(shards)
        ]
        self._next = 0
        self.exchanges: list[Exchange] = []
        self.by_path: dict[str, Exchange] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        sent = time.monotonic()
        self._next = (self._next + 1) % len(self._shards)
        response = await self._shards[self._next].handle_async_request(request)
        exchange = Exchange(
            request.method, request.url.path, response.status_code, sent, time.monotonic()
        )
        self.exchanges.append(exchange)
        self.by_path[request.url.path] = exchange
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_TimedStream(response.stream, exchange),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        for shard in self._shards:
            await shard.aclose()


class ThinkingCallee:
    """A persona that takes `think` seconds before each reply (speaking, Twilio's endpointing).

    With `jitter`, each pause is drawn evenly from think * (1 +- jitter) (seeded), so calls that
    started together stop replying in step.
    """

    def __init__(self, inner: Callee, think: float, jitter: float = 0.0, seed: str = "") -> None:
        self._inner, self._think, self._jitter = inner, think, jitter
        self._dice = random.Random(seed)

    @property
    def answers(self) -> AnswerMode:
        return self._inner.answers

    async def reply(self, heard: Sequence[str]) -> Reply:
        pause = self._think * (1 + self._jitter * (2 * self._dice.random() - 1))
        if pause > 0:
            await asyncio.sleep(pause)
        return await self._inner.reply(heard)


class LoopLag:
    """How late this process's event loop wakes up: our own measurements are only this good.

    It also samples the machine's 1-minute load average about once a second: other work on the
    machine skews every figure.
    """

    def __init__(self, period: float = 0.05) -> None:
        self.period = period
        self.samples: list[float] = []
        self.loadavg: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._tick())

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        ticks = 0
        while True:
            if ticks % max(1, round(1 / self.period)) == 0:
                self.loadavg.append(os.getloadavg()[0])
            ticks += 1
            before = loop.time()
            await asyncio.sleep(self.period)
            self.samples.append((loop.time() - before - self.period) * 1000)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a whole process (all its threads), from /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return float("nan")
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------------------------
# The service, in its own process


class ServiceProcess:
    """`python -m voiceagent serve` with a fresh SQLite file, configured by environment only."""

    def __init__(self, workdir: Path, env: Mapping[str, str], port: int) -> None:
        self.workdir, self.port = workdir, port
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = workdir / "service.log"
        self.env = dict(env)
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    async def start(self, timeout: float = 40.0) -> None:
        with self.log_path.open("wb") as log:
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "voiceagent",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                env=self.env,
                cwd=self.workdir,  # no stray .env file is read
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2.0) as http:
            while time.monotonic() < deadline:
                if self._proc.returncode is not None:
                    raise RuntimeError(f"the service exited: see {self.log_path}")
                try:
                    health = (await http.get("/healthz")).json()
                except (httpx.HTTPError, ValueError):
                    await asyncio.sleep(0.1)
                    continue
                if health.get("telephony") != "twilio":
                    raise RuntimeError(f"the service is not on the Twilio path: {health}")
                return
        raise TimeoutError(f"the service did not start in {timeout:g} s: see {self.log_path}")

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.pid)

    async def stop(self, timeout: float = 20.0) -> None:
        proc = self._proc
        if proc is None or proc.returncode is not None:
            return
        proc.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown: lines being written end
        try:
            await asyncio.wait_for(proc.wait(), timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()

    def log_events(self) -> Counter[str]:
        """Warnings and errors the service logged, by event name (tracebacks counted apart)."""
        counts: Counter[str] = Counter()
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return counts
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                if line.startswith("Traceback"):
                    counts["traceback"] += 1
                elif "Exception in ASGI application" in line:
                    counts["asgi_exception"] += 1
                continue
            if isinstance(record, dict):
                counts[f"{record.get('level', '?')}:{record.get('event', '?')}"] += 1
        return counts

    def log_samples(self, limit: int = 6) -> list[str]:
        """A few distinct error texts from the service's log (what failed, in its words)."""
        seen: dict[str, None] = {}
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return []
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                if "Error" in line or "error" in line:
                    seen.setdefault(line.strip()[:240], None)
                continue
            if isinstance(record, dict) and record.get("error"):
                seen.setdefault(f"{record.get('event')}: {str(record['error'])[:200]}", None)
            if len(seen) >= limit:
                break
        return list(seen)


# ---------------------------------------------------------------------------------------------
# What the database holds (read after the service has stopped)


@dataclass
class StoredTurn:
    number: int
    status: str
    lines: tuple[str, ...]
    created_at: str
    ready_at: str | None
    caller: list[StoredMessage] = field(default_factory=list)
    agent: list[StoredMessage] = field(default_factory=list)

    @property
    def fixed(self) -> bool:
        """A line starting with one of the script's fixed parts is the script's (and cached)."""
        return bool(self.lines) and self.lines[0] in FIXED_LINES


@dataclass
class StoredMessage:
    seq: int
    role: str
    text: str
    stages: dict[str, float]
    created_at: str
    latency_ms: float | None = None
    interrupted: bool = False


@dataclass
class StoredCall:
    call_id: str
    status: str
    state: str
    end_reason: str | None
    outcome: str | None
    turns: dict[int, StoredTurn] = field(default_factory=dict)
    orphans: list[StoredMessage] = field(default_factory=list)  # messages of no stored turn


def read_database(path: Path) -> dict[str, StoredCall]:
    """Every call with its turns; each message joined to its turn by the timestamp both share
    (a caller message is written with its turn's decision, an agent message with its answer)."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        calls = {
            row[0]: StoredCall(*row)
            for row in con.execute("SELECT id, status, state, end_reason, outcome FROM calls")
        }
        for call_id, number, status, plan, created, ready in con.execute(
            "SELECT call_id, number, status, plan, created_at, ready_at FROM turns"
        ):
            lines = tuple((json.loads(plan) if plan else {}).get("lines", []))
            calls[call_id].turns[number] = StoredTurn(number, status, lines, created, ready)
        rows = con.execute(
            "SELECT call_id, seq, role, text, stages, created_at, latency_ms, interrupted"
            " FROM messages ORDER BY seq"
        ).fetchall()
    finally:
        con.close()
    for call_id, seq, role, text, stages, created, latency, interrupted in rows:
        call = calls[call_id]
        message = StoredMessage(
            seq,
            role,
            text,
            json.loads(stages) if stages else {},
            created,
            latency,
            bool(interrupted),
        )
        owner = next(
            (
                t
                for t in call.turns.values()
                if (t.created_at if role == "caller" else t.ready_at) == created
            ),
            None,
        )
        if owner is None:
            call.orphans.append(message)
        elif role == "caller":
            owner.caller.append(message)
        else:
            owner.agent.append(message)
    return calls


# ---------------------------------------------------------------------------------------------
# One webhook as the carrier saw it


@dataclass
class Webhook:
    call_id: str
    turn: int | None
    wait: int
    duplicate: bool
    status: int
    ms: float
    twiml: str
    speech: str | None  # the SpeechResult sent (None on redirects)
    prompt: str | None = None  # "play" or "say": the first thing the caller hears
    play_first_byte_ms: float | None = None
    play_total_ms: float | None = None
    play_bytes: int = 0
    line: str = "unknown"  # the turn's line: generated | fixed (from the stored plan)

    @property
    def bridged(self) -> bool:
        return "<Redirect" in self.twiml

    @property
    def ttfa_ms(self) -> float | None:
        """Webhook time plus the first byte of its first <Play> (nothing more for <Say>)."""
        if self.prompt == "play":
            return None if self.play_first_byte_ms is None else self.ms + self.play_first_byte_ms
        return self.ms if self.status == 200 else None

    @property
    def playable_ms(self) -> float | None:
        """Webhook time plus the whole first <Play> downloaded: what Twilio waits for."""
        if self.prompt == "play":
            return None if self.play_total_ms is None else self.ms + self.play_total_ms
        return self.ms if self.status == 200 else None


def webhooks_of(transcript: CallTranscript, call_id: str, timing: TimingTransport) -> list[Webhook]:
    found: list[Webhook] = []
    current: Webhook | None = None
    speech = ""
    for event in transcript.events:
        if event.kind is EventKind.WEBHOOK:
            query = parse_qs(urlsplit(event.text).query)
            turn = int(query["turn"][0]) if "turn" in query else None
            wait = int(query.get("wait", ["0"])[0])
            hook = Webhook(
                call_id=call_id,
                turn=turn,
                wait=wait,
                duplicate=bool(event.data.get("duplicate", False)),
                status=int(event.data.get("status_code", 0)),
                ms=float(event.data.get("ms", 0)),
                twiml=str(event.data.get("twiml", "")),
                speech=speech if wait == 0 else None,
            )
            found.append(hook)
            if not hook.duplicate:
                current = hook
        elif event.kind is EventKind.PLAY and current is not None and current.prompt is None:
            current.prompt = "play"
            exchange = timing.by_path.get(urlsplit(event.text).path)
            if exchange is not None and exchange.first_byte is not None:
                current.play_first_byte_ms = (exchange.first_byte - exchange.sent) * 1000
            current.play_total_ms = float(event.data.get("ms", 0))
            current.play_bytes = int(event.data.get("bytes", 0))
        elif event.kind is EventKind.SAY and current is not None and current.prompt is None:
            current.prompt = "say"
        elif event.kind is EventKind.REPLY:
            speech, current = event.text, None
        elif event.kind is EventKind.SILENCE:
            speech, current = "", None
    return found


def line_of(hook: Webhook, stored: StoredCall | None) -> str:
    """Whether the webhook's turn speaks a generated line or one of the script's fixed ones."""
    turn = stored.turns.get(hook.turn) if stored is not None and hook.turn is not None else None
    if turn is None:
        return "unknown"
    return "fixed" if turn.fixed else "generated"


# ---------------------------------------------------------------------------------------------
# Statistics


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    position = (len(sorted_values) - 1) * q
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def summarize(values: Iterable[float | None]) -> Json:
    data = sorted(v for v in values if v is not None)
    if not data:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "max": None, "mean": None}
    return {
        "n": len(data),
        "p50": round(percentile(data, 0.50), 1),
        "p95": round(percentile(data, 0.95), 1),
        "p99": round(percentile(data, 0.99), 1),
        "max": round(data[-1], 1),
        "mean": round(sum(data) / len(data), 1),
    }


# ---------------------------------------------------------------------------------------------
# Calls and runs


@dataclass
class PlacedCall:
    index: int
    persona: str
    phone: str
    expect: Expectation
    call_id: str | None = None
    sid: str | None = None
    start_status: int | None = None
    start_error: str | None = None
    transcript: CallTranscript | None = None
    api: Json | None = None
    timed_out: bool = False

    def ended_as_expected(self) -> bool:
        if self.api is None:
            return False
        got = (self.api.get("status"), self.api.get("end_reason"), self.api.get("outcome"))
        want = (self.expect.status, self.expect.end_reason, self.expect.outcome)
        return got == tuple(None if w is None else str(w) for w in want)


@dataclass
class RunData:
    label: str
    concurrency: int
    profile: Profile
    faults: Faults
    think: float
    calls: list[PlacedCall]
    stored: dict[str, StoredCall]
    timing: TimingTransport
    api_statuses: Counter[int]
    seconds: float
    service_cpu: float
    loadgen_cpu: float
    loop_lag: list[float]
    service_log: Counter[str]
    service_log_samples: list[str]
    slowed: dict[str, int]
    loadavg: tuple[float, float, float] = (0.0, 0.0, 0.0)  # the machine's, as the run ended
    loadavg_during: list[float] = field(default_factory=list)  # 1-minute, about once a second
    think_jitter: float = 0.0

    def webhooks(self) -> list[Webhook]:
        hooks: list[Webhook] = []
        for call in self.calls:
            if call.transcript is None or call.call_id is None:
                continue
            stored = self.stored.get(call.call_id)
            for hook in webhooks_of(call.transcript, call.call_id, self.timing):
                hook.line = line_of(hook, stored)
                hooks.append(hook)
        return hooks


class Bench:
    """The local vendors and the Twilio REST emulator, kept up across runs."""

    def __init__(self, workdir: Path, *, seed: int = 7) -> None:
        self.workdir = workdir
        self.seed = seed
        self.openai = OpenAIEmulator()
        self.elevenlabs = ElevenLabsEmulator()
        self.twilio = TwilioRestEmulator()
        self.llm_gate = SlowShare(self.openai.app)  # type: ignore[arg-type]
        self.tts_gate = SlowShare(self.elevenlabs.app)  # type: ignore[arg-type]
        self._stack = AsyncExitStack()
        self.urls: dict[str, str] = {}

    async def __aenter__(self) -> Bench:
        for name, app in (
            ("openai", self.llm_gate),
            ("elevenlabs", self.tts_gate),
            ("twilio", self.twilio.app),
        ):
            server = await self._stack.enter_async_context(
                serve_in_background(lambda _, app=app: app)  # type: ignore[misc]
            )
            self.urls[name] = server.base_url
        await self.twilio.carrier.aclose()  # replaced per run by one with a timing transport
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    def service_env(self, database: Path, port: int, extra: Mapping[str, str]) -> dict[str, str]:
        keep = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("OPENAI_", "ELEVENLABS_", "TWILIO_", "API_TOKEN", "HANDOFF_"))
            and k
            not in (
                "DATABASE_URL",
                "PUBLIC_BASE_URL",
                "SCRIPT_PATH",
                "CALLING_HOURS",
                "VOICE_TRANSPORT",
            )
        }
        src = str(Path(voiceagent.__file__).resolve().parents[1])
        path = os.pathsep.join(p for p in (src, keep.get("PYTHONPATH", "")) if p)
        return {
            **keep,
            "PYTHONPATH": path,
            "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "OPENAI_API_KEY": self.openai.api_key,
            "OPENAI_BASE_URL": f"{self.urls['openai']}/v1",
            "OPENAI_MODEL": self.openai.model,
            "ELEVENLABS_API_KEY": self.elevenlabs.api_key,
            "ELEVENLABS_BASE_URL": self.urls["elevenlabs"],
            "TWILIO_ACCOUNT_SID": self.twilio.account_sid,
            "TWILIO_AUTH_TOKEN": self.twilio.auth_token,
            "TWILIO_PHONE_NUMBER": FROM_NUMBER,
            "TWILIO_API_BASE_URL": self.urls["twilio"],
            "CALLING_HOURS": "any",
            "LOG_LEVEL": "WARNING",
            "LOG_FORMAT": "json",
            # The load generator is one trusted client starting hundreds of calls at once.
            "CALL_START_RATE_PER_MINUTE": "0",
            **extra,
        }

    def configure_vendors(self, profile: Profile, faults: Faults) -> None:
        self.openai.reset(
            OpenAIBehaviour(
                first_token_delay=profile.llm_first_token,
                total_duration=profile.llm_total,
                fail_status=faults.llm_fail_status if faults.llm_fail_rate > 0 else None,
                fail_rate=faults.llm_fail_rate,
                seed=self.seed,
            )
        )
        self.elevenlabs.behaviour = ElevenLabsBehaviour(
            first_byte_delay=profile.tts_first_byte,
            realtime_factor=profile.tts_realtime,
            fail_status=faults.tts_fail_status if faults.tts_fail_rate > 0 else None,
            fail_rate=faults.tts_fail_rate,
            seed=self.seed,
        )
        self.llm_gate.configure(
            rate=faults.llm_slow_rate, seconds=faults.llm_slow_seconds, seed=self.seed
        )
        self.tts_gate.configure(
            rate=faults.tts_slow_rate, seconds=faults.tts_slow_seconds, seed=self.seed + 1
        )

    @asynccontextmanager
    async def service(self, label: str, extra: Mapping[str, str]) -> AsyncIterator[ServiceProcess]:
        """A fresh service on a fresh database, its fixed-line audio cache already warm."""
        workdir = self.workdir / label
        workdir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        env = self.service_env(workdir / "bench.db", port, extra)
        process = ServiceProcess(workdir, env, port)
        # The cache of fixed lines warms at start-up from the TTS server: let it do so quickly,
        # then put the profile's delays in place before the first call.
        self.elevenlabs.behaviour = ElevenLabsBehaviour(first_byte_delay=0, realtime_factor=None)
        self.tts_gate.configure(rate=0, seconds=0, seed=0)
        before = self.tts_gate.total
        await process.start()
        try:
            # On ConversationRelay Twilio speaks: the service warms no audio, so nothing to wait on.
            if extra.get("VOICE_TRANSPORT", "gather") == "gather":
                if self.tts_gate.total == before:
                    await asyncio.sleep(0.5)  # warming is a background task: let it begin
                await self.tts_gate.quiet()
            yield process
        finally:
            await process.stop()

    async def run(
        self,
        *,
        label: str,
        concurrency: int,
        calls: int,
        profile: Profile,
        faults: Faults = Faults(),
        personas: Mapping[str, float] | None = None,
        think: float = 1.0,
        think_jitter: float = 0.0,
        call_timeout: float = 120.0,
        run_timeout: float = 300.0,
        extra_env: Mapping[str, str] | None = None,
        handoff: bool = False,
    ) -> RunData:
        """Place `calls` calls, `concurrency` at a time, and collect everything measured."""
        directory = CalleeDirectory.bundled()
        dice = random.Random(f"{self.seed}:{label}")
        mix = personas or {"eager_buyer": 1.0}
        names, weights = list(mix), list(mix.values())
        placed = []
        for index in range(calls):
            persona = directory.persona(dice.choices(names, weights)[0])
            phone = f"+1415555{2000 + index:04d}"
            callee = ThinkingCallee(persona.callee(), think, think_jitter, f"{self.seed}:{phone}")
            directory.register(phone, callee)
            placed.append(
                PlacedCall(
                    index, persona.name, phone, persona.expectation(handoff_configured=handoff)
                )
            )
        timing = TimingTransport()
        carrier = SimulatedCarrier(
            self.twilio.auth_token,
            directory=directory,
            account_sid=self.twilio.account_sid,
            limits=CallLimits(duplicate_rate=faults.duplicate_rate, seed=self.seed),
            transport=timing,
        )
        self.twilio.carrier = carrier
        env = dict(extra_env or {})
        if handoff:
            env["HANDOFF_NUMBER"] = "+14155550199"
        api_statuses: Counter[int] = Counter()
        lag = LoopLag()
        async with self.service(label, env) as service:
            self.configure_vendors(profile, faults)
            gate = asyncio.Semaphore(concurrency)
            limits = httpx.Limits(max_connections=None, max_keepalive_connections=500)
            async with httpx.AsyncClient(
                base_url=service.base_url, timeout=30.0, limits=limits
            ) as http:

                async def one(call: PlacedCall) -> None:
                    async with gate:
                        await self._call(http, carrier, call, api_statuses, call_timeout)

                cpu0, mine0, t0 = service.cpu_seconds(), time.process_time(), time.monotonic()
                lag.start()
                tasks = [asyncio.create_task(one(call)) for call in placed]
                done, pending = await asyncio.wait(tasks, timeout=run_timeout)
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
                for task in done:
                    if task.exception() is not None:
                        raise task.exception()  # type: ignore[misc]  # a bug in the harness
                seconds = time.monotonic() - t0
                service_cpu = service.cpu_seconds() - cpu0
                loadgen_cpu = time.process_time() - mine0
                loadavg = os.getloadavg()
                await lag.stop()
            await carrier.aclose()  # hangs up whatever is still live
        slowed = {"llm": self.llm_gate.slowed, "tts": self.tts_gate.slowed}
        return RunData(
            label=label,
            concurrency=concurrency,
            profile=profile,
            faults=faults,
            think=think,
            calls=placed,
            stored=read_database(service.workdir / "bench.db"),
            timing=timing,
            api_statuses=api_statuses,
            seconds=seconds,
            service_cpu=service_cpu,
            loadgen_cpu=loadgen_cpu,
            loop_lag=lag.samples,
            loadavg_during=lag.loadavg,
            think_jitter=think_jitter,
            service_log=service.log_events(),
            service_log_samples=service.log_samples(),
            slowed=slowed,
            loadavg=loadavg,
        )

    async def _call(
        self,
        http: httpx.AsyncClient,
        carrier: SimulatedCarrier,
        call: PlacedCall,
        api_statuses: Counter[int],
        timeout: float,
    ) -> None:
        try:
            started = await http.post("/call/start", json={"phone": call.phone})
        except httpx.HTTPError as exc:
            call.start_error = repr(exc)
            return
        api_statuses[started.status_code] += 1
        call.start_status = started.status_code
        if started.status_code != 202:
            call.start_error = started.text[:300]
            return
        body = started.json()
        call.call_id, call.sid = body["call_id"], body["twilio_sid"]
        assert call.sid is not None
        try:
            call.transcript = await carrier.wait_for(call.sid, timeout=timeout)
        except TimeoutError:
            call.timed_out = True
            call.transcript = carrier.transcript(call.sid)
        try:
            detail = await http.get(f"/calls/{call.call_id}")
        except httpx.HTTPError as exc:
            call.start_error = f"GET /calls/{call.call_id}: {exc!r}"
            return
        api_statuses[detail.status_code] += 1
        if detail.status_code == 200:
            call.api = detail.json()


# ---------------------------------------------------------------------------------------------
# Figures shared by both benchmarks


def errors_of(run: RunData, hooks: Sequence[Webhook]) -> Json:
    carrier_errors = Counter[str]()
    for call in run.calls:
        for message in call.transcript.errors if call.transcript else ():
            carrier_errors[_error_kind(message)] += 1
    server_5xx = sum(1 for e in run.timing.exchanges if e.status >= 500) + sum(
        n for code, n in run.api_statuses.items() if code >= 500
    )
    counts = {
        "start_failed": sum(1 for c in run.calls if c.start_status != 202),
        "timed_out": sum(1 for c in run.calls if c.timed_out),
        "webhook_non_200": sum(1 for h in hooks if h.status != 200),
        "server_5xx": server_5xx,
        "carrier_errors": sum(carrier_errors.values()),
        "unexpected_end": sum(
            1 for c in run.calls if c.start_status == 202 and not c.ended_as_expected()
        ),
    }
    total = (
        counts["start_failed"]
        + counts["timed_out"]
        + counts["carrier_errors"]
        + counts["unexpected_end"]
    )
    samples = sorted({m for c in run.calls for m in (c.transcript.errors if c.transcript else ())})[
        :5
    ]
    unexpected = Counter(
        f"{c.persona}: {(c.api or {}).get('status')}/{(c.api or {}).get('end_reason')}"
        for c in run.calls
        if c.start_status == 202 and not c.ended_as_expected()
    )
    return {
        "total": total,
        **counts,
        "carrier_error_kinds": dict(carrier_errors),
        "carrier_error_samples": samples,
        "unexpected_end_kinds": dict(unexpected),
    }


def _error_kind(message: str) -> str:
    if message.startswith("relay session"):  # the simulated ConversationRelay's failures
        if "said nothing" in message:
            return "relay_agent_silent"
        code = message.partition("failed (")[2][:5]
        return f"relay_{code}" if code.isdigit() else "relay_other"
    for marker in ("answered HTTP", "invalid TwiML", "<Play>", "status callback", "duplicate"):
        if marker in message:
            return marker.strip("<>").replace(" ", "_")
    return "other"


def run_meta(run: RunData) -> Json:
    lag = summarize(run.loop_lag)
    return {
        "label": run.label,
        "concurrency": run.concurrency,
        "calls": len(run.calls),
        "profile": run.profile.as_json(),
        "faults": run.faults.as_json(),
        "think_seconds": run.think,
        "think_jitter": run.think_jitter,
        "seconds": round(run.seconds, 1),
        "service_cpu_seconds": round(run.service_cpu, 1),
        "service_cpu_share": round(run.service_cpu / run.seconds, 2) if run.seconds else None,
        "loadgen_cpu_seconds": round(run.loadgen_cpu, 1),
        "loadgen_loop_lag_ms": {"p99": lag["p99"], "max": lag["max"]},
        # Other work on the machine skews every figure: more than 2 here on 2 cores means so.
        "machine_loadavg_1_5_15": [round(x, 2) for x in run.loadavg],
        "machine_loadavg_1min_during": {
            "first": round(run.loadavg_during[0], 2) if run.loadavg_during else None,
            "max": round(max(run.loadavg_during), 2) if run.loadavg_during else None,
        },
        "service_log": dict(sorted(run.service_log.items())),
        "service_log_samples": run.service_log_samples,
        "slowed_requests": run.slowed,
    }


def machine() -> Json:
    return {
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": sys.platform,
        "budget_seconds": BUDGET_SECONDS,
    }


def write_json(path: Path, data: Json) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


def fmt(value: float | None, width: int = 7) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.0f}"
