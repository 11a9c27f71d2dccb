"""The command outbox: an API send's `message.send` command is written to `command_outbox` in the
transaction that records the message as `queued`; this task publishes what the outbox holds (in
order, pipelined, every PubAck awaited) and only then deletes it. A crash in between publishes the
same commands again with the same Nats-Msg-Id; the session-pool's claim of each message id makes a
repeated command send nothing twice. Rows are taken FOR UPDATE SKIP LOCKED, so replicas share the work."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from switchboard_contracts.envelope import EncodedEvent, subject_of
from switchboard_runtime.background import Drain
from switchboard_runtime.messaging.publisher import Publisher, headers_for

from .tables import SCHEMA

ADD = text(f"""
    INSERT INTO {SCHEMA}.command_outbox (msg_id, subject, payload, traceparent)
    SELECT * FROM unnest(CAST(:ids AS text[]), CAST(:subjects AS text[]), CAST(:payloads AS bytea[]),
                         CAST(:traces AS text[]))""")
TAKE = text(f"""SELECT seq, msg_id AS id, subject, payload, traceparent FROM {SCHEMA}.command_outbox
                ORDER BY seq LIMIT :n FOR UPDATE SKIP LOCKED""")
DONE = text(f"DELETE FROM {SCHEMA}.command_outbox WHERE seq = ANY(CAST(:seqs AS bigint[]))")


async def add(conn: AsyncConnection, commands: list[EncodedEvent]) -> None:
    """Put commands into the outbox, in `conn`'s transaction."""
    if commands:
        await conn.execute(ADD, {"ids": [c.id for c in commands], "subjects": [subject_of(c) for c in commands],
                                 "payloads": [c.payload for c in commands],
                                 "traces": [c.traceparent for c in commands]})


class Outbox:
    def __init__(self, engine: AsyncEngine, publisher: Publisher, batch: int = 2000, poll_interval: float = 1.0):
        self.engine, self.publisher, self.batch = engine, publisher, batch
        self.task = Drain("command-outbox", self.publish_pending, poll_interval)
        self.wake, self.start, self.stop = self.task.wake, self.task.start, self.task.stop

    async def publish_pending(self) -> int:
        """Publish everything the outbox holds; returns how many commands were published."""
        published = 0
        while True:
            async with self.engine.begin() as conn:
                rows = list(await conn.execute(TAKE, {"n": self.batch}))
                if not rows:
                    return published
                await self.publisher.publish_raw_many(
                    (r.subject, bytes(r.payload), headers_for(r)) for r in rows)
                await conn.execute(DONE, {"seqs": [r.seq for r in rows]})
            published += len(rows)
