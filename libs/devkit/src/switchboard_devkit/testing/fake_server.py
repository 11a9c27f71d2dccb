"""Serving a fake provider (its FastAPI `app`) on a free loopback port for the length of a test."""

from __future__ import annotations

import asyncio
import contextlib

import uvicorn

from ..ports import wait_for_port
from .ports import server_port


@contextlib.asynccontextmanager
async def serving(fake):
    """Start `fake.app`, set `fake.url`, yield the fake, stop the server."""
    port = server_port()
    server = uvicorn.Server(uvicorn.Config(fake.app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, lifespan="off", timeout_graceful_shutdown=5))
    server.install_signal_handlers = lambda: None  # the test runner owns the signals
    task = asyncio.create_task(server.serve(), name=f"fake {type(fake).__name__}")
    await asyncio.to_thread(wait_for_port, port)
    fake.url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        server.should_exit = True
        await task
