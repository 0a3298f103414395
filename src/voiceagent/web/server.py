"""Run the app under uvicorn inside the current event loop (CLI commands and tests).

The socket is bound first so the app can be built knowing its own URL: the simulated carrier
posts its webhooks to PUBLIC_BASE_URL, which must be where this server listens.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI


@dataclass(frozen=True)
class RunningServer:
    base_url: str
    app: FastAPI


@asynccontextmanager
async def serve_in_background(
    build: Callable[[str], FastAPI], *, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[RunningServer]:
    # IPPROTO_TCP, not 0: asyncio only sets TCP_NODELAY on sockets it knows are TCP, and
    # without it every response waits ~40 ms for the client's delayed ACK (Nagle).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    base_url = f"http://{host}:{sock.getsockname()[1]}"
    app = build(base_url)
    # proxy_headers off: forwarding headers are the app's business (TRUSTED_PROXIES).
    config = uvicorn.Config(
        app, log_level="warning", lifespan="on", access_log=False, proxy_headers=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()  # re-raises what stopped the server from starting
                raise RuntimeError("the server stopped before it started")
            await asyncio.sleep(0.01)
        yield RunningServer(base_url=base_url, app=app)
    finally:
        server.should_exit = True
        await task
        sock.close()
