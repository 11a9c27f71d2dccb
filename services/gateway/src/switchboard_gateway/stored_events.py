"""Reading SWITCHBOARD_EVENTS from a sequence on (a client's replay, the feed's repair of a hole)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

import nats.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from switchboard_contracts import streams

STREAM = streams.EVENTS.name
BATCH = 256  # stored events read per pull request (a replay or a repair)
FETCH_TIMEOUT = 2.0  # a pull that brings nothing in this long: nothing more to read


async def read_stored(js: JetStreamContext, filters: list[str], after: int, upto: int | None = None,
                      *, stream: str = STREAM, batch: int = BATCH) -> AsyncIterator[list[Msg]]:
    """The stored messages on `filters` (none: all) after sequence `after`, in order, a batch at a
    time, until nothing is pending (or past `upto`). An ephemeral pull consumer without acks, deleted
    when done (its inactivity threshold removes it should the process die). Use with `aclosing`."""
    name = f"live-{uuid.uuid4().hex}"
    config = ConsumerConfig(name=name, ack_policy=AckPolicy.NONE, mem_storage=True, num_replicas=1,
                            inactive_threshold=60.0, deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                            opt_start_seq=after + 1, filter_subjects=filters or None)
    info = await js.add_consumer(stream, config)
    try:
        pending = info.num_pending
        if pending == 0:
            return
        sub = await js.pull_subscribe_bind(consumer=name, stream=stream)
        try:
            last = after
            while pending > 0:
                want = min(batch, pending) if upto is None else max(1, min(batch, pending, upto - last))
                try:  # exactly what is pending: the pull request ends as soon as it is filled
                    msgs = await sub.fetch(want, timeout=FETCH_TIMEOUT)
                except nats.errors.TimeoutError:
                    return  # deleted meanwhile: nothing more
                yield msgs
                meta = msgs[-1].metadata
                pending, last = meta.num_pending, meta.sequence.stream
                if upto is not None and last >= upto:
                    return
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
    finally:
        with contextlib.suppress(Exception):  # gone already: its inactivity threshold removes it anyway
            await js.delete_consumer(stream, name)
