"""An endpoint's read of SWITCHBOARD_EVENTS: its own consumer (`webhooks__<endpoint id>`, its filters
the endpoint's event types within its organization), created afresh at the endpoint's recorded position
each time its lane starts — the position in PostgreSQL is the truth, the consumer only reads (no acks).
Pulled in batches by the lean pull loop."""

from __future__ import annotations

from collections import deque

import nats
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from switchboard_contracts import streams
from switchboard_runtime.messaging.pull import PullLoop

BATCH = 256


def consumer_name(endpoint_id: str) -> str:
    return "webhooks__" + endpoint_id.replace("-", "")


class Reader:
    def __init__(self, js, endpoint_id: str, subjects: list[str], after: int):
        self.js, self.name, self.subjects, self.after = js, consumer_name(endpoint_id), subjects, after
        self.loop: PullLoop | None = None
        self.buffer: deque[Msg] = deque()

    async def open(self) -> None:
        await self.close()
        config = ConsumerConfig(durable_name=self.name, deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                                opt_start_seq=self.after + 1, ack_policy=AckPolicy.NONE,
                                filter_subjects=self.subjects, mem_storage=True, max_waiting=4)
        await self.js.add_consumer(streams.EVENTS.name, config=config)
        self.loop = PullLoop(self.js.connection, streams.EVENTS.name, self.name)
        await self.loop.start()

    async def next(self, wait: float = 5.0) -> Msg | None:
        """The next event of the line, or None if none came within `wait` seconds."""
        if not self.buffer:
            assert self.loop is not None
            self.buffer.extend(await self.loop.fetch(BATCH, wait))
        return self.buffer.popleft() if self.buffer else None

    async def close(self) -> None:
        if self.loop is not None:
            await self.loop.stop()
            self.loop = None
        self.buffer.clear()
        await delete_consumer(self.js, self.name)


async def delete_consumer(js, name: str) -> None:
    try:
        await js.delete_consumer(streams.EVENTS.name, name)
    except nats.js.errors.NotFoundError:
        pass
