"""Readiness heartbeats in a JetStream KV bucket: every service instance puts its key while ready;
the bucket's TTL removes instances that stop."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time

from nats.js import JetStreamContext
from nats.js.errors import NoKeysError

from switchboard_contracts import streams as specs

from .declare import ensure_key_value


def instance_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class Heartbeat:
    def __init__(self, js: JetStreamContext, service: str, interval: float = 5.0):
        self.js = js
        self.service = service
        self.interval = interval
        self.key = f"{service}.{instance_id()}".replace(":", "-")
        self._task: asyncio.Task | None = None
        self.ready = True

    async def beat(self) -> None:
        kv = await ensure_key_value(self.js, specs.SERVICES)
        payload = {"service": self.service, "ready": self.ready, "at": time.time()}
        await kv.put(self.key, json.dumps(payload).encode())

    async def _loop(self) -> None:
        while True:
            try:
                await self.beat()
            except Exception:  # noqa: BLE001 - NATS away: readiness lapses by TTL, we retry
                pass
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=f"heartbeat-{self.service}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        try:
            kv = await ensure_key_value(self.js, specs.SERVICES)
            await kv.delete(self.key)
        except Exception:  # noqa: BLE001
            pass


async def ready_services(js: JetStreamContext, max_age: float = 15.0) -> set[str]:
    """Services with at least one instance that reported ready within `max_age` seconds."""
    kv = await ensure_key_value(js, specs.SERVICES)
    try:
        keys = await kv.keys()
    except NoKeysError:
        return set()
    ready: set[str] = set()
    now = time.time()
    for key in keys:
        entry = await kv.get(key)
        if not entry or not entry.value:
            continue
        info = json.loads(entry.value)
        if info.get("ready") and now - info.get("at", 0) <= max_age:
            ready.add(info["service"])
    return ready
