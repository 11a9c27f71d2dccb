"""A real HTTP/1.1 receiver of webhooks on a free loopback port, for tests and benchmarks: it records
every request (path, headers, body, arrival time) and answers as `respond(request)` says — a status
and headers, after a delay, a body (a huge one), a redirect, or a reset connection. Keep-alive, plain
asyncio streams (no framework between the wire and the test)."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from .patience import REPLY
from .ports import server_port

MAX_HEAD = 64 * 1024


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    at: float  # time.time() on arrival


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0  # seconds before the answer
    reset: bool = False  # close the connection without answering
    body_repeat: int = 1  # the body sent this many times (a huge answer)


Respond = Callable[[Received], Reply | Awaitable[Reply]]
REASONS = {200: "OK", 204: "No Content", 301: "Moved Permanently", 302: "Found", 410: "Gone", 429: "Too Many Requests",
           500: "Internal Server Error", 503: "Service Unavailable"}


class Receiver:
    def __init__(self, respond: Respond | None = None):
        self.respond: Respond = respond or (lambda _: Reply())
        self.received: list[Received] = []
        self.arrived = asyncio.Event()
        self.port = 0
        self.url = ""
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()

    async def start(self, port: int | None = None) -> Receiver:
        self.port = port or server_port()
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, limit=MAX_HEAD)
        self.url = f"http://127.0.0.1:{self.port}"
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._connections):
                writer.transport.abort()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)
            self._server = None

    async def __aenter__(self) -> Receiver:
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    async def wait_for(self, count: int, timeout: float = REPLY) -> list[Received]:
        """The first `count` requests, once that many arrived (AssertionError after `timeout`)."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            left = deadline - time.monotonic()
            assert left > 0, f"{len(self.received)} of {count} requests arrived in {timeout} s"
            self.arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), min(left, 0.5))
        return self.received[:count]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        try:
            while True:
                request = await self._read(reader)
                if request is None:
                    return
                self.received.append(request)
                self.arrived.set()
                reply = self.respond(request)
                if inspect.isawaitable(reply):
                    reply = await reply
                if reply.delay:
                    await asyncio.sleep(reply.delay)
                if reply.reset:
                    writer.transport.abort()
                    return
                await self._write(writer, reply)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return
        finally:
            self._connections.discard(writer)
            writer.close()

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> Received | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return None
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        return Received(method, path, headers, body, time.time())

    @staticmethod
    async def _write(writer: asyncio.StreamWriter, reply: Reply) -> None:
        length = len(reply.body) * reply.body_repeat
        head = [f"HTTP/1.1 {reply.status} {REASONS.get(reply.status, 'Status')}", f"content-length: {length}",
                *(f"{k}: {v}" for k, v in reply.headers.items())]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
        for _ in range(reply.body_repeat):
            writer.write(reply.body)
            if reply.body_repeat > 1:
                await writer.drain()
        await writer.drain()
