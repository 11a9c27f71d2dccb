"""Serving a fake provider (its FastAPI `app`) on a free loopback port for the length of a test."""

from __future__ import annotations

import asyncio
import contextlib

from switchboard_devkit.ports import free_port, wait_for_port
from switchboard_runtime.http.server import HttpServer


@contextlib.asynccontextmanager
async def serving(fake):
    """Start `fake.app`, set `fake.url`, yield the fake, stop the server."""
    port = free_port()
    server = HttpServer(fake.app, "127.0.0.1", port)
    server.start()
    await asyncio.to_thread(wait_for_port, port)
    fake.url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        await server.stop()
