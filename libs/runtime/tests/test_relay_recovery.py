"""The outbox relay killed between a publish and the record of its position, started again after
JetStream's duplicate window: every event is in the stream once, none is lost — with the stream
sequence it records, and without one (positions recorded before it recorded sequences)."""

from __future__ import annotations

import asyncio
from collections import Counter

import nats
import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from nats.js.api import StreamConfig
from pydantic import BaseModel
from sqlalchemy import text

from switchboard_contracts.envelope import make_envelope
from switchboard_runtime.database import async_engine
from switchboard_runtime.eventstore import postgres_application
from switchboard_runtime.messaging.publisher import Publisher
from switchboard_runtime.relay import Relay, RelayPositions
from switchboard_runtime.settings import DatabaseUrl

SCHEMA = "relay_test"
ORG = "org-relay"


class Note(Aggregate):
    def __init__(self, body: str):
        self.body = body


class Notes(Application):
    pass


class NoteCreated(BaseModel):
    body: str


def to_cloudevent(event):
    return make_envelope(id=f"{event.originator_id}:{event.originator_version}", source="test",
                         type="switchboard.note.created.v1", orgid=ORG,
                         data=NoteCreated(body=getattr(event, "body", "")), subject=str(event.originator_id))


class CrashAfterPublish(RelayPositions):
    """The process dies after the PubAcks, before the position is written (once)."""

    def __init__(self, *args):
        super().__init__(*args)
        self.crashes = 1

    async def set(self, name, position, *rest):
        if self.crashes:
            self.crashes -= 1
            raise ConnectionError("killed between publish and record")
        await super().set(name, position, *rest)


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


async def forget_ids(js) -> None:
    """A downtime longer than the duplicate window: JetStream forgets the ids it saw."""
    info = await js.stream_info("SWITCHBOARD_EVENTS")
    info.config.duplicate_window = 1.0
    await js.update_stream(info.config)
    await asyncio.sleep(2.0)


@pytest.mark.parametrize("legacy", [False, True], ids=["with-sequence", "without-sequence"])
async def test_relay_killed_between_publish_and_record_stores_each_event_once(nats_url, database_url, legacy):
    db = DatabaseUrl.parse(database_url)
    app = await asyncio.to_thread(postgres_application, Notes, db, SCHEMA)
    engine = async_engine(db, pool_size=2)
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    try:
        await js.add_stream(StreamConfig(name="SWITCHBOARD_EVENTS", subjects=["sb.evt.>"], duplicate_window=120))
        publisher = Publisher(nc, js)
        ok = RelayPositions(engine, SCHEMA)
        await ok.create()
        for i in range(3):
            await asyncio.to_thread(app.save, Note(f"early {i}"))
        assert await Relay(app, publisher, ok, to_cloudevent, name="notes", batch=2).publish_pending() == 3
        if legacy:  # recorded by a relay that did not record sequences yet
            async with engine.begin() as conn:
                columns = await conn.execute(text("SELECT column_name FROM information_schema.columns "
                                                  "WHERE table_schema = :s AND table_name = 'relay_positions'"),
                                             {"s": SCHEMA})
                if "stream_seq" in columns.scalars().all():
                    await conn.execute(text(f"UPDATE {SCHEMA}.relay_positions SET stream_seq = NULL"))
        for i in range(3):
            await asyncio.to_thread(app.save, Note(f"late {i}"))
        crashing = Relay(app, publisher, CrashAfterPublish(engine, SCHEMA), to_cloudevent, name="notes", batch=2)
        with pytest.raises(ConnectionError):
            await crashing.publish_pending()
        assert len(await stored(js)) == 5  # the first late batch is published, not recorded
        await forget_ids(js)

        restarted = Relay(app, publisher, RelayPositions(engine, SCHEMA), to_cloudevent, name="notes", batch=2)
        await restarted.publish_pending()
        ids = await stored(js)
        notifications = await asyncio.to_thread(app.recorder.select_notifications, 1, 100)
        expected = {to_cloudevent(app.mapper.to_domain_event(n)).id for n in notifications}
    finally:
        await nc.close()
        await engine.dispose()
        app.close()
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    assert set(ids) == expected and len(expected) == 6
