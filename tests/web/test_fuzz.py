"""Fuzzing: schemathesis over the JSON API's OpenAPI schema, hypothesis over Twilio's webhook
parameters and over what any client controls besides a body: query strings (raw bytes too),
cookies and headers, on every page and API read. The app runs under uvicorn on loopback in a
thread; its simulated carrier only ever calls back into it."""

from __future__ import annotations

import asyncio
import secrets
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance
from tests.conftest import CLIENT_TIMEOUT, GUARD
from twilio.request_validator import RequestValidator

from voiceagent.intent.local import LocalClassifier
from voiceagent.providers.base import Providers
from voiceagent.providers.scripted import ScriptedLanguage
from voiceagent.providers.simulated import SimulatedCarrier
from voiceagent.script.model import load_script
from voiceagent.settings import Settings
from voiceagent.web.app import create_app

GUARD_TOKEN = "fuzz-token-" + "x" * 32


class ThreadedServer:
    """The app on a free loopback port, in a thread with its own event loop."""

    def __init__(self, database: Path, api_token: str | None = None) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        self.sock = sock
        self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self.token = secrets.token_hex(16)
        script = load_script(None)
        providers = Providers(
            SimulatedCarrier(self.token), ScriptedLanguage(script), LocalClassifier()
        )
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            database_url=f"sqlite+aiosqlite:///{database}",
            public_base_url=self.base_url,
            log_level="ERROR",
            call_start_rate_per_minute=0,
            api_token=api_token,
        )
        app = create_app(settings, providers, script=script, configure_logs=False)
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="error", lifespan="on"))
        self.thread = threading.Thread(
            target=lambda: asyncio.run(self.server.serve(sockets=[sock])), daemon=True
        )

    def __enter__(self) -> ThreadedServer:
        self.thread.start()
        deadline = time.monotonic() + GUARD
        while time.monotonic() < deadline and self.thread.is_alive():
            if self.server.started:
                return self
            threading.Event().wait(0.01)
        raise RuntimeError("the server did not start")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=GUARD)
        self.sock.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    with ThreadedServer(tmp_path_factory.mktemp("fuzz") / "fuzz.db") as running:
        yield running


@pytest.fixture(scope="module")
def guarded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedServer]:
    """The same app with API_TOKEN set, so session cookies and bearer headers are read."""
    database = tmp_path_factory.mktemp("fuzz-guarded") / "fuzz.db"
    with ThreadedServer(database, api_token=GUARD_TOKEN) as running:
        yield running


@pytest.fixture(scope="module")
def api_schema(server: ThreadedServer) -> Any:
    schema = schemathesis.openapi.from_url(f"{server.base_url}/openapi.json")
    # The JSON API: Twilio's signed form webhooks are fuzzed below, audio ids are random.
    return schema.exclude(path_regex=r"^/(twilio|audio)/")


def test_the_json_api_never_errors_and_keeps_its_schema(api_schema: Any) -> None:
    # schemathesis' own pytest plugin predates pytest 9: drive its strategies with hypothesis.
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/call/start", "/calls", "/calls/{call_id}", "/dnc"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            deadline=None,
            derandomize=True,  # the suite replays the same cases; explore with a seed by hand
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def check(case: Any) -> None:
            # A string the schema allows may still not be a dialable number: that is a 422
            # with phonenumbers' reason, by design, not a rejected valid request.
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        check()


params = st.dictionaries(
    st.sampled_from(
        [
            "CallSid",
            "AccountSid",
            "From",
            "To",
            "CallStatus",
            "SpeechResult",
            "Confidence",
            "SequenceNumber",
            "CallDuration",
            "DialCallStatus",
            "ErrorCode",
            "Digits",
            "Direction",
        ]
    )
    | st.text(min_size=1, max_size=20),
    st.text(max_size=300),
    max_size=10,
)
queries = st.fixed_dictionaries(
    {},
    optional={
        "call_id": st.one_of(st.uuids().map(str), st.text(max_size=40)),
        "turn": st.one_of(st.integers(-5, 20_000).map(str), st.text(max_size=5)),
        "wait": st.integers(-1, 200).map(str),
    },
)


@given(
    path=st.sampled_from(["/twilio/voice", "/twilio/status", "/twilio/dial", "/twilio/fallback"]),
    form=params,
    query=queries,
    signed=st.booleans(),
)
@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
def test_any_twilio_webhook_gets_a_clean_answer(
    server: ThreadedServer,
    path: str,
    form: dict[str, str],
    query: dict[str, str],
    signed: bool,
) -> None:
    url = httpx.URL(server.base_url + path, params=query)
    headers = {}
    if signed:
        headers["X-Twilio-Signature"] = RequestValidator(server.token).compute_signature(
            str(url), form
        )
    response = httpx.post(url, data=form, headers=headers, timeout=CLIENT_TIMEOUT)
    assert response.status_code < 500, response.text
    if not signed:
        assert response.status_code in (403, 422)
    elif response.status_code == 200 and path != "/twilio/status":
        assert response.text.startswith("<?xml")


# Values that have broken parsers before: a digit to str.isdigit() but not to int(), more
# digits than int() reads, the last day there is, an overflow, a lone-surrogate escape.
ODD = st.sampled_from(
    ["²", "9" * 5000, "9999-12-31", "0001-01-01", "99999999999999999999999", "-1", "", " "]
)
HEADER_ODD = ODD.map(str.strip)  # a header value never starts or ends with a space
HEADER_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=60,
).map(str.strip)
QUERY_KEYS = st.sampled_from(
    [
        "page",
        "since",
        "until",
        "status",
        "outcome",
        "end_reason",
        "state",
        "kind",
        "q",
        "phone",
        "after",
        "view",
        "limit",
        "offset",
        "done",
        "added",
        "already",
        "invalid",
        "next",
    ]
) | st.text(min_size=1, max_size=10)
RAW_VALUE = st.binary(max_size=12).map(urllib.parse.quote_from_bytes)  # %FF, %ED%A0%80, ...
QUERY = st.lists(
    st.tuples(
        QUERY_KEYS.map(urllib.parse.quote),
        ODD.map(urllib.parse.quote) | st.text(max_size=30).map(urllib.parse.quote) | RAW_VALUE,
    ),
    max_size=6,
).map(lambda pairs: "&".join(f"{key}={value}" for key, value in pairs))
PAGES = [
    "/",
    "/ui/live",
    "/ui/live/active",
    "/ui/analytics",
    "/ui/dnc",
    "/ui/calls.csv",
    "/ui/simulator",
    "/ui/login",
    "/ui/calls/no-such-call",
    "/ui/calls/no-such-call/stream",
    "/calls",
    "/calls/no-such-call",
    "/dnc",
]


def _cookie(session: str, csrf: str) -> bytes:
    return f"va_session={session}; va_csrf={csrf}".encode("latin-1")


@given(
    path=st.sampled_from(PAGES),
    query=QUERY,
    session=HEADER_ODD | HEADER_TEXT,
    csrf=HEADER_ODD | HEADER_TEXT,
    last_event_id=HEADER_ODD | HEADER_TEXT,
    bearer=st.booleans(),
    htmx=st.booleans(),
)
@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_any_query_cookie_or_header_on_a_read_gets_a_clean_answer(
    guarded_server: ThreadedServer,
    path: str,
    query: str,
    session: str,
    csrf: str,
    last_event_id: str,
    bearer: bool,
    htmx: bool,
) -> None:
    headers: dict[str, bytes] = {
        "Cookie": _cookie(session, csrf),
        "Last-Event-ID": last_event_id.encode("latin-1"),
        "Accept": b"text/event-stream" if path.endswith("/stream") else b"text/html",
    }
    if bearer:
        headers["Authorization"] = f"Bearer {GUARD_TOKEN}".encode()
    if htmx:
        headers["HX-Request"] = b"true"
    url = f"{guarded_server.base_url}{path}?{query}"
    response = httpx.get(
        url, headers=headers, timeout=CLIENT_TIMEOUT
    )  # the whole body: no broken stream
    assert response.status_code < 500, (url, response.text[:500])
    if not bearer and path != "/ui/login":
        assert response.status_code in (303, 401), url  # a crafted cookie is no session


@given(
    path=st.sampled_from(["/ui/dnc", "/ui/dnc/remove", "/ui/login", "/ui/simulator/calls"]),
    form=st.dictionaries(
        st.sampled_from(["phone", "csrf_token", "token", "next", "lead_name"]),
        ODD | st.text(max_size=40),
        max_size=4,
    ),
    csrf=HEADER_ODD | HEADER_TEXT,
    header_csrf=HEADER_ODD | HEADER_TEXT,
)
@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_any_form_with_any_cookie_gets_a_clean_answer(
    server: ThreadedServer, path: str, form: dict[str, str], csrf: str, header_csrf: str
) -> None:
    headers = {"Cookie": _cookie("", csrf), "X-CSRF-Token": header_csrf.encode("latin-1")}
    response = httpx.post(
        server.base_url + path, data=form, headers=headers, timeout=CLIENT_TIMEOUT
    )
    assert response.status_code < 500, response.text[:500]


@given(
    key=HEADER_ODD | HEADER_TEXT, phone=st.sampled_from(["+14155550101", "+1 415 555 0102", "x"])
)
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_any_idempotency_key_gets_a_clean_answer(
    server: ThreadedServer, key: str, phone: str
) -> None:
    response = httpx.post(
        server.base_url + "/call/start",
        json={"phone": phone},
        headers={"Idempotency-Key": key.encode("latin-1")},
        timeout=CLIENT_TIMEOUT,
    )
    assert response.status_code < 500, response.text[:500]
