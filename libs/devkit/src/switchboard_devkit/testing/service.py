"""Running a service's `serve(stop, settings)` in-process for a test, until its consumer exists."""

from __future__ import annotations

import asyncio
import contextlib

import nats


@contextlib.asynccontextmanager
async def running_service(serve, settings, stream: str, durable: str, timeout: float = 10.0):
    """Start `serve`, wait until its durable consumer exists, yield a JetStream context, then stop."""
    stop = asyncio.Event()
    task = asyncio.create_task(serve(stop, settings))
    nc = await nats.connect(settings.nats_url)
    js = nc.jetstream()
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
