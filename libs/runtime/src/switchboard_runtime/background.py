"""A background task that drains a queue-like source: it runs `work()` when woken (after a local
write) and at least every `poll_interval` (for writes by other processes), and after a failure
(NATS or PostgreSQL away) logs why and tries again a second later — the state it drains stays put."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from .logs import get_logger

log = get_logger(__name__)


class Drain:
    def __init__(self, name: str, work: Callable[[], Awaitable[object]], poll_interval: float):
        self.name, self.work, self.poll_interval = name, work, poll_interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            try:
                await self.work()
            except Exception as exc:  # noqa: BLE001 - a dependency away: what is pending waits for the next pass
                log.warning(f"{self.name} failed; retrying", error=repr(exc))
                await asyncio.sleep(1.0)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval)
            except TimeoutError:
                pass
            self._wake.clear()

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name=self.name)

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
