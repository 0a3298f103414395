"""How long a do-not-call import takes, and how long the event loop stalls meanwhile.

Runs the real app on loopback (simulated carrier, a fresh SQLite file, or DATABASE_URL when set),
posts CSVs of valid numbers and of bad rows to `POST /dnc/import`, and reports per size the
import's wall time and the longest gap between ticks of a 10 ms timer on the server's loop
(what a live call's webhook would wait). Figures, not a test.

    PYTHONPATH=src python bench/dnc_import.py [--sizes 10000,100000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import httpx

from voiceagent.settings import Settings
from voiceagent.web.app import create_app
from voiceagent.web.server import serve_in_background


async def _stall_probe(stop: asyncio.Event, worst: list[float]) -> None:
    last = time.perf_counter()
    while not stop.is_set():
        await asyncio.sleep(0.01)
        now = time.perf_counter()
        worst[0] = max(worst[0], now - last - 0.01)
        last = now


def _valid(count: int, offset: int) -> bytes:
    return ("phone\n" + "".join(f"+1415{2_000_000 + offset + n}\n" for n in range(count))).encode()


def _bad(count: int) -> bytes:
    return ("phone\n" + "x\n" * count).encode()


async def run(sizes: list[int], database_url: str | None) -> list[dict[str, object]]:
    results: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"

        def build(base_url: str):  # type: ignore[no-untyped-def]
            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                database_url=url,
                public_base_url=base_url,
                log_level="WARNING",
            )
            return create_app(settings, configure_logs=False)

        async with (
            serve_in_background(build) as server,
            httpx.AsyncClient(base_url=server.base_url, timeout=600) as http,
        ):
            offset = 0
            for kind, size in [("valid", n) for n in sizes] + [("bad rows", n) for n in sizes]:
                body = _valid(size, offset) if kind == "valid" else _bad(size)
                offset += size
                stop, worst = asyncio.Event(), [0.0]
                probe = asyncio.create_task(_stall_probe(stop, worst))
                started = time.perf_counter()
                response = await http.post(
                    "/dnc/import", content=body, headers={"Content-Type": "text/csv"}
                )
                elapsed = time.perf_counter() - started
                stop.set()
                await probe
                report = response.json() if response.status_code == 200 else response.text
                results.append(
                    {
                        "rows": size,
                        "kind": kind,
                        "status": response.status_code,
                        "seconds": round(elapsed, 3),
                        "longest_loop_stall_ms": round(worst[0] * 1000, 1),
                        "response_bytes": len(response.content),
                        "added": report.get("added") if isinstance(report, dict) else None,
                    }
                )
                print(json.dumps(results[-1]), flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    asyncio.run(run([int(n) for n in args.sizes.split(",")], args.database_url))


if __name__ == "__main__":
    main()
