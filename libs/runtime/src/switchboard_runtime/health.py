"""A minimal HTTP endpoint for services without an API: `GET /healthz` (up), `GET /readyz`, and
`GET /metrics` (JSON figures the service chooses to report)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

ReadyCheck = Callable[[], Awaitable[dict[str, bool]]]


class HealthServer:
    def __init__(self, port: int, ready_check: ReadyCheck, host: str = "0.0.0.0",  # noqa: S104
                 metrics: Callable[[], dict] | None = None):
        self.port, self.host, self.ready_check = port, host, ready_check
        self.metrics = metrics or (lambda: {})
        self.server: asyncio.base_events.Server | None = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), timeout=5)
            path = request.decode(errors="replace").split(" ")[1] if request.count(b" ") >= 2 else ""
            if path == "/healthz":
                status, body = 200, {"status": "ok"}
            elif path == "/metrics":
                status, body = 200, self.metrics()
            elif path == "/readyz":
                checks = await self.ready_check()
                ok = all(checks.values())
                status, body = (200 if ok else 503), {"ready": ok, "checks": checks}
            else:
                status, body = 404, {"error": {"code": "not_found", "message": "unknown path", "details": {}}}
            payload = json.dumps(body).encode()
            reason = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}[status]
            writer.write(f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
                         f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode() + payload)
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    async def start(self) -> None:
        if self.port:
            self.server = await asyncio.start_server(self._handle, self.host, self.port)

    async def stop(self) -> None:
        if self.server:
            self.server.close()
