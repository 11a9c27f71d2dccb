"""The overdue-timer sweep: every `every` seconds, executions whose delay or reply timeout ended more
than `grace` ago and that are still waiting get their timer set again (it fires at once). A timer is
a schedule in JetStream, set after the execution is saved; one whose publish failed after an API
start (no redelivery repeats it) would otherwise leave the execution waiting until someone cancels
it. In normal operation the sweep finds nothing: timers fire within a second or two of their time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from switchboard_runtime.logs import get_logger

from .engine import Engine
from .execution_index import ExecutionIndex

log = get_logger(__name__)
BATCH = 500


class OverdueTimers:
    def __init__(self, engine: Engine, index: ExecutionIndex, every: float, grace: float,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.engine, self.index, self.every, self.grace, self.clock = engine, index, every, grace, clock

    async def sweep(self) -> int:
        """Heal what is overdue now; how many executions it healed."""
        overdue = await self.index.overdue(self.clock() - timedelta(seconds=self.grace), BATCH)
        for execution_id in overdue:
            await self.engine.heal(execution_id)
        if overdue:
            log.warning("overdue timers set again", executions=len(overdue))
        return len(overdue)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            await self.sweep()
