"""The outbox on the real PostgreSQL and JetStream: what a rolled-back transaction added is never
published; what a committed one added is published in order with Nats-Msg-Id = the envelope id and then
deleted; a crash after the PubAcks (before the delete) publishes the same ids again, which the stream
drops; two drains at once (replicas) publish each envelope once."""

from __future__ import annotations

import asyncio

import nats
import pytest
from nats.js.api import StreamConfig
from pydantic import BaseModel
from sqlalchemy import MetaData, Table, text

from switchboard_contracts.envelope import encode_envelope
from switchboard_runtime.database import async_engine
from switchboard_runtime.messaging.publisher import Publisher
from switchboard_runtime.outbox import Outbox, OutboxTable, columns
from switchboard_runtime.settings import DatabaseUrl

SCHEMA = "outbox_test"
ORG = "org-outbox"


class Noted(BaseModel):
    n: int


def envelope(n: int):
    return encode_envelope(id=f"note-{n}", source="test", type="switchboard.note.created.v1", orgid=ORG,
                           data=Noted(n=n), subject=f"note-{n}")


async def stored(js) -> list[str]:
    sub = await js.subscribe(f"sb.evt.{ORG}.>", ordered_consumer=True, stream="SWITCHBOARD_EVENTS")
    ids = []
    try:
        while True:
            try:
                msg = await sub.next_msg(timeout=2.0)
            except nats.errors.TimeoutError:
                return ids
            ids.append(msg.headers["Nats-Msg-Id"])
            if msg.metadata.num_pending == 0:
                return ids
    finally:
        await sub.unsubscribe()


class CrashAfterPublish(Publisher):
    """The process dies after the PubAcks, before the rows are deleted (once)."""

    crashes = 1

    async def publish_raw_many(self, messages, if_absent=False):
        result = await super().publish_raw_many(messages, if_absent)
        if self.crashes:
            self.crashes -= 1
            raise ConnectionError("killed between publish and delete")
        return result


async def test_outbox_publishes_committed_envelopes_once_in_order(nats_url, database_url):
    engine = async_engine(DatabaseUrl.parse(database_url), pool_size=4)
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    try:
        await js.add_stream(StreamConfig(name="SWITCHBOARD_EVENTS", subjects=["sb.evt.>"], duplicate_window=120))
        async with engine.begin() as conn:
            await conn.execute(text(f"CREATE SCHEMA {SCHEMA}"))
            await conn.run_sync(lambda c: Table("events_out", MetaData(schema=SCHEMA), *columns()).create(c))
        table = OutboxTable(SCHEMA, "events_out")
        with pytest.raises(RuntimeError):
            async with engine.begin() as conn:
                await table.add(conn, [envelope(0)])
                raise RuntimeError("the change failed: its events go with it")
        async with engine.begin() as conn:
            await table.add(conn, [envelope(n) for n in range(1, 4)])
        crashing = Outbox(engine, CrashAfterPublish(nc, js), table, batch=2)
        with pytest.raises(ConnectionError):
            await crashing.publish_pending()
        assert await stored(js) == ["note-1", "note-2"]  # published, not yet deleted

        publisher = Publisher(nc, js)
        assert await Outbox(engine, publisher, table, batch=2).publish_pending() == 3  # 1 and 2 again, 3
        assert await stored(js) == ["note-1", "note-2", "note-3"]  # in order, the repeats dropped

        async with engine.begin() as conn:
            await table.add(conn, [envelope(n) for n in range(4, 40)])
        counts = await asyncio.gather(*(Outbox(engine, publisher, table, batch=5).publish_pending() for _ in range(2)))
        assert sum(counts) == 36  # each row taken by one drain (SKIP LOCKED), none twice
        ids = await stored(js)
        assert sorted(ids) == sorted(f"note-{n}" for n in range(1, 40)) and len(set(ids)) == len(ids)
        async with engine.connect() as conn:
            assert (await conn.execute(text(f"SELECT count(*) FROM {SCHEMA}.events_out"))).scalar() == 0
    finally:
        await nc.close()
        await engine.dispose()
