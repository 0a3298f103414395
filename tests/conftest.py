"""Shared fixtures: settings on a fresh database, and the real app served on loopback.

Every test that takes `database_url`, `make_settings` or `live_app` runs twice: on a fresh SQLite
file (`sqlite`) and on a fresh PostgreSQL database (`postgres`) created from the server that
VOICEAGENT_TEST_POSTGRES_URL names (CI sets it). Without it the PostgreSQL leg is skipped, and
the run says so.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url
from twilio.request_validator import RequestValidator

from voiceagent.intent.local import LocalClassifier
from voiceagent.providers.base import Providers
from voiceagent.providers.scripted import ScriptedLanguage
from voiceagent.providers.simulated import HANG_UP, CalleeDirectory, Reply, SimulatedCarrier
from voiceagent.script.model import load_script
from voiceagent.settings import Settings
from voiceagent.web.app import create_app
from voiceagent.web.server import serve_in_background

T = TypeVar("T")


@pytest.fixture(autouse=True)
def _no_env_leaks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Tests build their settings explicitly; a developer's .env or shell must not leak in.
    monkeypatch.chdir(tmp_path)
    for name in (
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_PHONE_NUMBER",
        "API_TOKEN",
        "HANDOFF_NUMBER",
        "OPENAI_API_KEY",
        "ELEVENLABS_API_KEY",
        "DATABASE_URL",
        "PUBLIC_BASE_URL",
        "SCRIPT_PATH",
        "CALLING_HOURS",
        "DEFAULT_REGION",
    ):
        monkeypatch.delenv(name, raising=False)


# Tests wait on a condition (an answer, a call's end, a row in the database), never on a guess at
# how long it takes: on a loaded two-core machine an import or a call may take many times longer
# than on an idle one. GUARD only stops a test that would otherwise hang for ever.
GUARD = 300.0
CLIENT_TIMEOUT = httpx.Timeout(GUARD)  # httpx's default, 5 s, is a guess a loaded machine overruns


async def until(check: Callable[[], Awaitable[T] | T], *, what: str, guard: float = GUARD) -> T:
    """Poll `check` (sync or async) until it returns something truthy, and return that."""
    deadline = time.monotonic() + guard
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {guard:.0f} s waiting for {what}")
        await asyncio.sleep(0.02)  # the pace of polling, not a guess at when it will be true


POSTGRES_ENV = "VOICEAGENT_TEST_POSTGRES_URL"
POSTGRES_URL = os.environ.get(POSTGRES_ENV, "").strip()
POSTGRES_SKIPPED = f"PostgreSQL leg skipped: {POSTGRES_ENV} not set"


def pytest_report_header() -> str:
    return f"PostgreSQL leg: on ({POSTGRES_URL})" if POSTGRES_URL else POSTGRES_SKIPPED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not POSTGRES_URL:
        terminalreporter.write_line(POSTGRES_SKIPPED, yellow=True)


@asynccontextmanager
async def fresh_postgres_database(admin_url: str) -> AsyncIterator[str]:
    """A new, empty database on the admin URL's server for one test; dropped afterwards."""
    admin = make_url(admin_url)
    name = f"voiceagent_test_{secrets.token_hex(6)}"
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        conn = await asyncpg.connect(dsn)
        try:
            # FORCE: a test that failed half-way may have left a connection open.
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgres", marks=pytest.mark.skipif(not POSTGRES_URL, reason=POSTGRES_SKIPPED)
        ),
    ]
)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    async with fresh_postgres_database(POSTGRES_URL) as url:
        yield url


@pytest.fixture
def make_settings(database_url: str) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "log_level": "WARNING",
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return build


@dataclass
class Live:
    """The real app under uvicorn on loopback, with its simulated carrier and an API client."""

    base_url: str
    settings: Settings
    carrier: SimulatedCarrier
    http: httpx.AsyncClient
    auth_token: str
    app: Any = None  # the FastAPI app, for a test that replaces part of its state

    def sign(self, url: str, params: dict[str, str]) -> str:
        return str(RequestValidator(self.auth_token).compute_signature(url, params))

    async def post_twilio(
        self, path: str, params: dict[str, str], *, sign: bool = True, signature: str | None = None
    ) -> httpx.Response:
        url = self.base_url + path
        headers = {}
        if sign:
            headers["X-Twilio-Signature"] = (
                self.sign(url, params) if signature is None else signature
            )
        return await self.http.post(path, data=params, headers=headers)

    async def run_call(self, phone: str, **lead: str) -> dict[str, Any]:
        """Start a call, wait for the carrier to finish it, return the stored call."""
        response = await self.http.post("/call/start", json={"phone": phone, "lead": lead})
        assert response.status_code == 202, response.text
        started = response.json()
        await self.carrier.wait_for(started["twilio_sid"], timeout=GUARD)
        detail = await self.http.get(f"/calls/{started['call_id']}")
        result: dict[str, Any] = detail.json()
        return result


@pytest.fixture
def live_app(make_settings: Callable[..., Settings]) -> Callable[..., Any]:
    @asynccontextmanager
    async def start(
        directory: CalleeDirectory | None = None, **overrides: Any
    ) -> AsyncIterator[Live]:
        token = secrets.token_hex(16)
        carrier = SimulatedCarrier(token, directory=directory)
        script = load_script(overrides.pop("script_path", None))
        providers = Providers(
            telephony=carrier, language=ScriptedLanguage(script), classifier=LocalClassifier()
        )
        holder: dict[str, Settings] = {}

        def build(base_url: str) -> Any:
            settings = make_settings(public_base_url=base_url, **overrides)
            holder["settings"] = settings
            return create_app(settings, providers, script=script, configure_logs=False)

        async with serve_in_background(build) as server:
            headers = {}
            api_token = holder["settings"].api_token
            if api_token is not None:
                headers["Authorization"] = f"Bearer {api_token.get_secret_value()}"
            async with httpx.AsyncClient(
                base_url=server.base_url, headers=headers, timeout=CLIENT_TIMEOUT
            ) as http:
                yield Live(server.base_url, holder["settings"], carrier, http, token, server.app)

    return start


class OnHold:
    """A callee who answers, then says nothing until the test lets it hang up: the call stays
    live for as long as the test needs it to."""

    answers = "answer"

    def __init__(self) -> None:
        self.listening = asyncio.Event()
        self.release = asyncio.Event()

    async def reply(self, heard: Sequence[str]) -> Reply:
        self.listening.set()
        await self.release.wait()
        return HANG_UP
