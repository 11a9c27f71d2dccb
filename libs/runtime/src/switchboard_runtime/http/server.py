"""Serving an ASGI app with uvicorn inside a service process whose runner owns the signals."""

from __future__ import annotations

import asyncio

import uvicorn


GRACEFUL_SHUTDOWN_SECONDS = 10  # requests still open this long after a stop are cut (a stop never hangs)
# An idle connection is kept open longer than its clients keep it (httpx: 5 s; load balancers: 60 s): with
# uvicorn's 5 s, the server closed a connection just as the gateway sent the next request on it (a 503).
KEEP_ALIVE_SECONDS = 75


class HttpServer:
    def __init__(self, app, host: str, port: int):
        self.url = f"http://{host}:{port}"
        self._server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                                     access_log=False, lifespan="off", timeout_keep_alive=KEEP_ALIVE_SECONDS,
                                                     timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS))
        self._server.install_signal_handlers = lambda: None  # the process runner owns the signals
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve(), name="http")

    async def wait_closed(self) -> None:
        """Until the server ends by itself (its port taken, say) or is stopped."""
        await asyncio.shield(self._task)

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task:
            await self._task
