"""Two runners (replicas) sending one campaign at once: each holds the campaign's run row while it takes
a batch, so every contact is published exactly once and marked queued, and the cursor ends at the last
contact. Against real PostgreSQL and a real JetStream stream."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import nats
from sqlalchemy import text

from switchboard_campaigns.contacts_store import ContactsStore
from switchboard_campaigns.domain.contacts import Contact
from switchboard_campaigns.runner import Runner
from switchboard_campaigns.tables import SCHEMA
from switchboard_contracts.ids import new_id
from switchboard_runtime.messaging.publisher import Publisher

ORG = "org-two-runners"
SPEC = {"content": {"type": "text", "text": "Hi {{name|there}}"}, "senders": {"sender_ids": ["s-1"]}}
CONTACTS = 1200


class CountingPublisher(Publisher):
    """The real publisher, counting the ids it publishes."""

    def __init__(self, nc, js, ids: Counter):
        super().__init__(nc, js)
        self.ids = ids

    async def publish_many(self, events):
        events = list(events)
        self.ids.update(e.id for e in events)
        return await super().publish_many(events)


async def pending(engine, cid: str) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(text(f"SELECT count(*) FROM {SCHEMA}.contacts WHERE campaign_id = :c "
                                         "AND status = 'pending'"), {"c": cid})).scalar_one()


async def test_two_runners_share_a_campaign_and_publish_each_contact_once(engine, nats_url):
    cid = new_id()
    async with ContactsStore(engine).upload(ORG, cid) as upload:
        await upload.add([Contact(f"+49151{i:07d}1", f"N{i}", {}) for i in range(CONTACTS)])
    async with engine.begin() as conn:
        await conn.execute(text(f"""INSERT INTO {SCHEMA}.runs (campaign_id, org_id, status, spec)
                                    VALUES (:c, :o, 'running', CAST(:s AS jsonb))"""),
                           {"c": cid, "o": ORG, "s": json.dumps(SPEC)})
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        await js.add_stream(name="COMMANDS", subjects=["sb.cmd.>"])
        ids: Counter = Counter()

        async def nothing(*_):
            return None

        async def run(runner: Runner) -> int:
            sent = 0
            for _ in range(200):  # bounded: 1,200 contacts in batches of 50 take 24 batches in all
                taken = await runner._send(cid, ORG, SPEC, 50)
                sent += taken
                if not taken:
                    if not await pending(engine, cid):
                        return sent
                    await asyncio.sleep(0.01)  # the other runner holds the campaign's batch
            return sent

        runners = [Runner(engine, CountingPublisher(nc, js, ids), nothing, None) for _ in range(2)]
        taken = await asyncio.gather(*(run(r) for r in runners))
    finally:
        await nc.close()

    assert sum(taken) == CONTACTS and len(ids) == CONTACTS
    assert set(ids.values()) == {1}, "a contact was published twice"
    async with engine.connect() as conn:
        statuses = dict((await conn.execute(text(
            f"SELECT status, count(*) FROM {SCHEMA}.contacts WHERE campaign_id = :c GROUP BY 1"), {"c": cid})).all())
        cursor = (await conn.execute(text(f"SELECT taken_through FROM {SCHEMA}.runs WHERE campaign_id = :c"),
                                     {"c": cid})).scalar_one()
    assert statuses == {"queued": CONTACTS} and cursor == CONTACTS
