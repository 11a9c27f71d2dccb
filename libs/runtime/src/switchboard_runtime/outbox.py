"""An outbox: events (or commands) written into a table of the service's own schema in the transaction
of the change they record (`add`), and published after commit by a background drain (`Outbox`): rows
taken in order FOR UPDATE SKIP LOCKED (replicas share the work), published pipelined with Nats-Msg-Id =
the envelope's id, every PubAck awaited, and only then deleted. A crash in between publishes the same
envelopes again with the same Nats-Msg-Id, which JetStream's duplicate window drops.

The table (`create_table` / `columns` for a migration): seq (identity, the order), msg_id, subject,
payload (the CloudEvents JSON document), traceparent."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from switchboard_contracts.envelope import CloudEvent, EncodedEvent, subject_of

from .background import Drain
from .messaging.publisher import Publisher, headers_for


def columns() -> list[sa.Column]:
    """The outbox table's columns, for an Alembic `op.create_table(name, *columns(), schema=…)`."""
    return [sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
            sa.Column("msg_id", sa.Text, nullable=False),
            sa.Column("subject", sa.Text, nullable=False),
            sa.Column("payload", sa.LargeBinary, nullable=False),
            sa.Column("traceparent", sa.Text)]


class OutboxTable:
    """The statements on one outbox table (`schema.table`)."""

    def __init__(self, schema: str, table: str = "outbox"):
        name = f"{schema}.{table}"
        self.name = name
        self.insert = text(f"""
            INSERT INTO {name} (msg_id, subject, payload, traceparent)
            SELECT * FROM unnest(CAST(:ids AS text[]), CAST(:subjects AS text[]), CAST(:payloads AS bytea[]),
                                 CAST(:traces AS text[]))""")
        self.take = text(f"""SELECT seq, msg_id AS id, subject, payload, traceparent FROM {name}
                             ORDER BY seq LIMIT :n FOR UPDATE SKIP LOCKED""")
        self.done = text(f"DELETE FROM {name} WHERE seq = ANY(CAST(:seqs AS bigint[]))")

    async def add(self, conn: AsyncConnection, envelopes: list[EncodedEvent | CloudEvent]) -> None:
        """Put envelopes into the outbox, in `conn`'s transaction."""
        if envelopes:
            await conn.execute(self.insert, {
                "ids": [e.id for e in envelopes], "subjects": [subject_of(e) for e in envelopes],
                "payloads": [e.payload if isinstance(e, EncodedEvent) else e.to_json_bytes() for e in envelopes],
                "traces": [e.traceparent for e in envelopes]})


class Outbox:
    """The drain of one outbox table: `start()`/`stop()` (a host component), `wake()` after a local
    commit, and at least every `poll_interval` seconds for other replicas' writes."""

    def __init__(self, engine: AsyncEngine, publisher: Publisher, table: OutboxTable, *, name: str = "outbox",
                 batch: int = 2000, poll_interval: float = 1.0):
        self.engine, self.publisher, self.table, self.batch = engine, publisher, table, batch
        self.task = Drain(name, self.publish_pending, poll_interval)
        self.wake, self.start, self.stop = self.task.wake, self.task.start, self.task.stop

    async def publish_pending(self) -> int:
        """Publish everything the outbox holds; returns how many envelopes were published."""
        published = 0
        while True:
            async with self.engine.begin() as conn:
                rows = list(await conn.execute(self.table.take, {"n": self.batch}))
                if not rows:
                    return published
                await self.publisher.publish_raw_many(
                    (r.subject, bytes(r.payload), headers_for(r)) for r in rows)
                await conn.execute(self.table.done, {"seqs": [r.seq for r in rows]})
            published += len(rows)
