"""The retired `flows__statuses` consumer (every message's status, read to find the outcomes of flows'
own messages), kept where a deployment still has it until nothing can need it, then deleted.

A message node's send now asks the session-pool for its outcome (`outcome_to`: a `flow.send_outcome`
command, `flows__outcomes`). A message sent before the upgrade, by an older replica, has its outcome
only in `message.status`. So where `flows__statuses` exists, flows goes on reading it (the same
handler: an outcome seen twice, by either way, resumes the execution once) and, every `every`
seconds, deletes it once `grace` has passed since `flows__outcomes` was created (older replicas
stopped sending without `outcome_to`) and no active execution has waited at a message node since
before that. A new deployment never creates it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from switchboard_contracts import streams
from switchboard_runtime.logs import get_logger
from switchboard_runtime.messaging.consumer import BatchConsumer

from .execution_index import ExecutionIndex

log = get_logger(__name__)
LEGACY = streams.FLOWS_STATUSES


class LegacyStatuses:
    def __init__(self, js: JetStreamContext, index: ExecutionIndex, every: float, grace: float,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.js, self.index, self.every, self.grace, self.clock = js, index, every, grace, clock
        self.consumer: BatchConsumer | None = None  # set by the composition root when it exists

    async def present(self) -> bool:
        """Whether this deployment still has the retired consumer."""
        return await self._created(LEGACY) is not None

    async def retire_if_unneeded(self) -> bool:
        """Delete the retired consumer if nothing can need it any more; whether it is gone."""
        since = await self._created(streams.FLOWS_OUTCOMES)
        if since is None:
            return False  # flows__outcomes is not there yet: this replica has not started it
        cutoff = since + timedelta(seconds=self.grace)
        if self.clock() < cutoff or await self.index.waiting_on_message(cutoff):
            return False
        if self.consumer is not None:
            await self.consumer.stop()
        try:
            await self.js.delete_consumer(LEGACY.stream, LEGACY.durable)
        except NotFoundError:
            pass  # another replica retired it
        log.info("retired consumer deleted", consumer=LEGACY.durable)
        return True

    async def run(self) -> None:
        while not await self.retire_if_unneeded():
            await asyncio.sleep(self.every)
        await asyncio.Event().wait()  # retired: nothing more to do

    async def _created(self, spec) -> datetime | None:
        try:
            info = await self.js.consumer_info(spec.stream, spec.durable)
        except NotFoundError:
            return None
        return info.created
