"""Who a client is, for the rate limits: the peer address, and forwarding headers only from
TRUSTED_PROXIES (issue 9, item 5)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

import voiceagent
from voiceagent.errors import ConfigError
from voiceagent.settings import get_settings

PHONE = "+14155550103"


async def _starts(live: Any, headers: list[dict[str, str]]) -> list[int]:
    codes = []
    for extra in headers:
        answer = await live.http.post("/call/start", json={"phone": PHONE}, headers=extra)
        codes.append(answer.status_code)
        if answer.status_code == 202:
            await live.carrier.wait_for(answer.json()["twilio_sid"], timeout=30)
    return codes


async def test_a_made_up_bearer_token_does_not_buy_a_fresh_bucket(live_app: Any) -> None:
    async with live_app(call_start_rate_per_minute=2) as live:
        codes = await _starts(live, [{"Authorization": f"Bearer x{i}"} for i in range(3)])
    assert codes == [202, 202, 429]


async def test_forwarded_for_from_loopback_is_not_believed_by_default(live_app: Any) -> None:
    async with live_app(call_start_rate_per_minute=2) as live:
        codes = await _starts(live, [{"X-Forwarded-For": f"203.0.113.{i}"} for i in range(3)])
    assert codes == [202, 202, 429]


async def test_forwarded_for_from_a_trusted_proxy_names_the_client(live_app: Any) -> None:
    async with live_app(call_start_rate_per_minute=1, trusted_proxies="127.0.0.1") as live:
        codes = await _starts(
            live,
            [
                {"X-Forwarded-For": "203.0.113.1"},
                {"X-Forwarded-For": "203.0.113.2"},
                {"X-Forwarded-For": "203.0.113.1"},
                # The proxy appends the peer it saw; what the client wrote before it is ignored.
                {"X-Forwarded-For": "198.51.100.9, 203.0.113.2"},
            ],
        )
    assert codes == [202, 202, 429, 429]


@pytest.mark.parametrize("value", ["localhost", "10.0.0.300", "*"])
def test_a_malformed_trusted_proxies_fails_naming_the_variable(value: str) -> None:
    with pytest.raises(ConfigError, match=r"^TRUSTED_PROXIES: "):
        get_settings(_env_file=None, trusted_proxies=value)


def test_trusted_proxies_takes_addresses_and_networks() -> None:
    settings = get_settings(_env_file=None, trusted_proxies=" 10.0.0.5, 192.168.0.0/16 ,::1")
    assert settings.proxies == ["10.0.0.5", "192.168.0.0/16", "::1"]
    assert get_settings(_env_file=None).proxies == []


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_voiceagent_serve_does_not_believe_loopback_forwarding(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
        "CALL_START_RATE_PER_MINUTE": "1",
        "LOG_LEVEL": "WARNING",
        # This checkout's code, whatever the working directory.
        "PYTHONPATH": str(Path(voiceagent.__file__).resolve().parents[1]),
    }
    env.pop("FORWARDED_ALLOW_IPS", None)
    command = [sys.executable, "-c", "from voiceagent.cli import app; app()", "serve"]
    command += ["--port", str(port)]
    server = subprocess.Popen(command, env=env, cwd=tmp_path)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        with httpx.Client(base_url=base, timeout=10) as http:
            while True:
                try:
                    if http.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert server.poll() is None, "voiceagent serve exited"
                assert time.monotonic() < deadline, "voiceagent serve did not start"
                time.sleep(0.1)
            codes = [
                http.post(
                    "/call/start", json={"phone": PHONE}, headers={"X-Forwarded-For": client}
                ).status_code
                for client in ("203.0.113.1", "203.0.113.2")
            ]
    finally:
        server.terminate()
        server.wait(timeout=15)
    assert codes == [202, 429]
