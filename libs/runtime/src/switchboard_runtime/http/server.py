"""Serving an ASGI app with uvicorn inside a service process whose runner owns the signals."""

from __future__ import annotations

import asyncio

import uvicorn


class HttpServer:
    def __init__(self, app, host: str, port: int):
        self.url = f"http://{host}:{port}"
        self._server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                                     access_log=False, lifespan="off"))
        self._server.install_signal_handlers = lambda: None  # the process runner owns the signals
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve(), name="http")

    async def serve_until(self, stop: asyncio.Event) -> None:
        """Until `stop` is set (or the server ends by itself, e.g. its port is taken)."""
        await asyncio.wait([self._task, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED)

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task:
            await self._task
