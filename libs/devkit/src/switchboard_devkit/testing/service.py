"""Running a service's `serve(stop, settings)` in-process for a test, until its consumer exists and
its API answers."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import nats

from .patience import REPLY, STARTUP


@contextlib.asynccontextmanager
async def running_service(serve, settings, stream: str, durable: str, timeout: float = STARTUP):
    """Start `serve`, wait until its durable consumer exists, yield a JetStream context, then stop."""
    stop = asyncio.Event()
    task = asyncio.create_task(serve(stop, settings))
    nc = await nats.connect(settings.nats_url)
    js = nc.jetstream(timeout=REPLY)
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            await js.consumer_info(stream, durable)
            break
        except Exception:  # noqa: BLE001 - not there yet
            if task.done():
                task.result()  # the service failed to start: raise its error
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"consumer {durable} never appeared") from None
            await asyncio.sleep(0.05)
    try:
        yield js
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await nc.close()


async def answering(http: httpx.AsyncClient, path: str, timeout: float = STARTUP, task: asyncio.Task | None = None) -> None:
    """Until a GET of `path` gets an answer (of any status) from `http`'s server; a TimeoutError when none
    came in `timeout` seconds, the service's own error when `task` (the service) ended first."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            await http.get(path)
            return
        except httpx.TransportError:
            if task is not None and task.done():
                task.result()
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{http.base_url} did not answer within {timeout} s") from None
            await asyncio.sleep(0.05)
