"""Statuses that name only a provider message id (WAHA acks) update campaign contacts: resolved by
(sender, provider message id) once the session-pool's `sent` has taught the contact that id, or kept
until it does; forward only, idempotent, and pruned when they never resolve. Against real PostgreSQL,
with the deliveries built as the consumer hands them to `StatusUpdates.handle`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic import command
from nats.aio.msg import Msg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

import switchboard_campaigns
from switchboard_campaigns.status_updates import UPDATE, StatusUpdates
from switchboard_campaigns.tables import SCHEMA
from switchboard_contracts import message
from switchboard_contracts.campaign import campaign_message_id
from switchboard_contracts.envelope import make_envelope
from switchboard_contracts.ids import new_id
from switchboard_runtime.database import alembic_config
from switchboard_runtime.messaging.consumer import Delivery
from switchboard_runtime.settings import DatabaseUrl

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ORG = "org-provider-statuses"
PHONE = "+4915112345678"
MIGRATIONS = Path(switchboard_campaigns.__file__).parent / "migrations"

CONTACT = text(f"""SELECT status, sender_id, provider_message_id, error_code, sent_at, delivered_at, read_at,
                          finished_at FROM {SCHEMA}.contacts WHERE message_id = CAST(:m AS uuid)""")
WAITING = text(f"""SELECT sender_id, provider_message_id, status FROM {SCHEMA}.provider_statuses
                   ORDER BY 1, 2, 3""")
COUNTS = text(f"""SELECT status, sum(n)::int FROM (
                      SELECT status, n FROM {SCHEMA}.campaign_counts WHERE campaign_id = CAST(:c AS uuid)
                      UNION ALL SELECT status, d FROM {SCHEMA}.count_deltas WHERE campaign_id = CAST(:c AS uuid)) x
                  GROUP BY 1 HAVING sum(n) <> 0 ORDER BY 1""")


class Campaign:
    """A campaign's contacts, queued as the runner leaves them."""

    def __init__(self, engine: AsyncEngine, size: int = 1) -> None:
        self.engine, self.id = engine, new_id()
        self.phones = [f"+49151{i:07d}1" for i in range(size)]
        self.mids = [campaign_message_id(self.id, p) for p in self.phones]

    async def create(self) -> Campaign:
        async with self.engine.begin() as conn:
            await conn.execute(text(f"""
                INSERT INTO {SCHEMA}.contacts (campaign_id, seq, phone, status, message_id, queued_at)
                SELECT CAST(:c AS uuid), s, p, 'queued', CAST(m AS uuid), now()
                FROM unnest(CAST(:phones AS text[]), CAST(:mids AS text[])) WITH ORDINALITY AS x(p, m, s)"""),
                {"c": self.id, "phones": self.phones, "mids": self.mids})
        return self

    async def contact(self, i: int = 0) -> dict:
        async with self.engine.connect() as conn:
            return dict((await conn.execute(CONTACT, {"m": self.mids[i]})).one()._mapping)

    async def counts(self) -> dict[str, int]:
        async with self.engine.connect() as conn:
            return dict((await conn.execute(COUNTS, {"c": self.id})).all())


async def waiting(engine: AsyncEngine) -> list[tuple[str, str, str]]:
    async with engine.connect() as conn:
        return [tuple(r) for r in await conn.execute(WAITING)]


def delivery(data: message.MessageStatus, event_id: str, source: str) -> Delivery:
    ce = make_envelope(id=event_id, source=source, type=message.STATUS, orgid=ORG, data=data,
                       subject=data.message_id or data.provider_message_id, time=data.timestamp)
    return Delivery(Msg(_client=None, subject=f"sb.evt.{ORG}.message.status", data=ce.to_json_bytes()))


def pool_status(mid: str, sender: str, status: str, minutes: float, pmid: str | None = None,
                error: message.StatusError | None = None) -> Delivery:
    """What the session-pool publishes: our message id, and with `sent` the provider's."""
    data = message.MessageStatus(message_id=mid, provider_message_id=pmid, sender_id=sender, recipient=PHONE,
                                 status=status, timestamp=T0 + timedelta(minutes=minutes), error=error)
    return delivery(data, message.status_event_id(mid, status), "switchboard/session-pool")


def waha_ack(sender: str, pmid: str, status: str, minutes: float) -> Delivery:
    """What webhook-ingest publishes for a WAHA `message.ack`: no message id of ours."""
    error = message.StatusError(code="waha_ack_error", title="ERROR") if status == "failed" else None
    data = message.MessageStatus(message_id=None, provider_message_id=pmid, sender_id=sender, recipient=PHONE,
                                 status=status, timestamp=T0 + timedelta(minutes=minutes), error=error)
    return delivery(data, message.provider_status_event_id(sender, pmid, status), "switchboard/webhook-ingest")


def wamid(n: int = 0) -> str:
    return f"true_4915112345678@c.us_3EB0{new_id()[:8].upper()}{n}"


class Progress:
    def __init__(self) -> None:
        self.campaigns: set[str] = set()

    def __call__(self, ids: set[str]) -> None:
        self.campaigns |= ids


async def test_waha_acks_after_sent_move_the_contact_to_delivered_then_read(engine):
    c, sender, pmid, progress = await Campaign(engine).create(), new_id(), wamid(), Progress()
    updates = StatusUpdates(engine, progress)
    await updates.handle([pool_status(c.mids[0], sender, "sent", 0, pmid)])
    row = await c.contact()
    assert (row["status"], row["sender_id"], row["provider_message_id"]) == ("sent", sender, pmid)

    outcome = await updates.handle([waha_ack(sender, pmid, "sent", 0.1), waha_ack(sender, pmid, "delivered", 1)])
    assert not outcome.rejected
    row = await c.contact()
    assert (row["status"], row["delivered_at"], row["sent_at"]) == ("delivered", T0 + timedelta(minutes=1), T0)
    await updates.handle([waha_ack(sender, pmid, "played", 2)])  # played counts as read
    row = await c.contact()
    assert (row["status"], row["read_at"]) == ("read", T0 + timedelta(minutes=2))
    assert await waiting(engine) == []
    assert await c.counts() == {"read": 1}
    assert progress.campaigns == {c.id}


async def test_acks_before_sent_wait_and_are_applied_when_sent_arrives(engine):
    c, sender, progress = await Campaign(engine, 2).create(), new_id(), Progress()
    first, second = wamid(1), wamid(2)
    updates = StatusUpdates(engine, progress)
    await updates.handle([waha_ack(sender, first, "delivered", 1), waha_ack(sender, first, "sent", 0.5)])
    await updates.handle([waha_ack(sender, first, "read", 2)])
    assert (await c.contact())["status"] == "queued"
    assert await waiting(engine) == sorted((sender, first, s) for s in ("delivered", "read", "sent"))

    await updates.handle([pool_status(c.mids[0], sender, "sent", 0, first)])
    row = await c.contact()
    assert (row["status"], row["provider_message_id"]) == ("read", first)
    assert (row["sent_at"], row["delivered_at"], row["read_at"]) == (
        T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2))
    assert await waiting(engine) == []

    # An ack in the same batch as the `sent` that teaches its id never waits.
    await updates.handle([waha_ack(sender, second, "delivered", 3), pool_status(c.mids[1], sender, "sent", 2, second)])
    row = await c.contact(1)
    assert (row["status"], row["delivered_at"]) == ("delivered", T0 + timedelta(minutes=3))
    assert await waiting(engine) == []
    assert await c.counts() == {"delivered": 1, "read": 1}
    assert progress.campaigns == {c.id}


async def test_a_repeat_changes_nothing(engine):
    c, sender = await Campaign(engine, 2).create(), new_id()
    early, late = wamid(1), wamid(2)
    batches = [[waha_ack(sender, early, "delivered", 1)],
               [pool_status(c.mids[0], sender, "sent", 0, early), pool_status(c.mids[1], sender, "sent", 0, late)],
               [waha_ack(sender, late, "delivered", 1), waha_ack(sender, late, "read", 2)],
               [waha_ack(sender, "unknown-" + wamid(), "read", 2)]]
    updates = StatusUpdates(engine)
    for batch in batches:
        await updates.handle(batch)
    before = (await c.contact(0), await c.contact(1), await waiting(engine), await c.counts())
    assert before[0]["status"] == "delivered" and before[1]["status"] == "read"
    assert len(before[2]) == 1 and before[3] == {"delivered": 1, "read": 1}

    for batch in batches:  # redelivered one by one, then all in one batch, then by a fresh process
        await updates.handle(batch)
    await updates.handle([d for batch in batches for d in batch])
    await StatusUpdates(engine).handle([d for batch in reversed(batches) for d in batch])
    assert (await c.contact(0), await c.contact(1), await waiting(engine), await c.counts()) == before


async def test_out_of_order_statuses_end_at_read_and_failed_is_final(engine):
    c, sender = await Campaign(engine, 3).create(), new_id()
    pmids = [wamid(i) for i in range(3)]
    updates = StatusUpdates(engine)
    # Resolved directly: read before delivered.
    await updates.handle([pool_status(c.mids[0], sender, "sent", 0, pmids[0])])
    await updates.handle([waha_ack(sender, pmids[0], "read", 2)])
    await updates.handle([waha_ack(sender, pmids[0], "delivered", 1)])
    # Waiting: read, then delivered, both before the `sent`.
    await updates.handle([waha_ack(sender, pmids[1], "read", 2)])
    await updates.handle([waha_ack(sender, pmids[1], "delivered", 1)])
    await updates.handle([pool_status(c.mids[1], sender, "sent", 0, pmids[1])])
    for i in (0, 1):
        row = await c.contact(i)
        assert (row["status"], row["delivered_at"], row["read_at"]) == (
            "read", T0 + timedelta(minutes=1), T0 + timedelta(minutes=2))
    # A failed ack is final: a later read changes the time, not the status.
    await updates.handle([pool_status(c.mids[2], sender, "sent", 0, pmids[2])])
    await updates.handle([waha_ack(sender, pmids[2], "failed", 1)])
    await updates.handle([waha_ack(sender, pmids[2], "read", 2)])
    row = await c.contact(2)
    assert (row["status"], row["error_code"], row["finished_at"]) == ("failed", "waha_ack_error",
                                                                     T0 + timedelta(minutes=1))
    assert await c.counts() == {"failed": 1, "read": 2}


async def test_an_unknown_provider_id_is_pruned_after_its_age(engine):
    sender, unknown = new_id(), wamid()
    await StatusUpdates(engine).handle([waha_ack(sender, unknown, "delivered", 1)])
    assert await waiting(engine) == [(sender, unknown, "delivered")]
    await StatusUpdates(engine).handle([])  # younger than PENDING_TTL: kept
    assert await waiting(engine) == [(sender, unknown, "delivered")]

    pruning = StatusUpdates(engine, keep_pending=timedelta(0), sweep_every=3600)
    await pruning.handle([])  # its first batch sweeps
    assert await waiting(engine) == []
    await pruning.handle([waha_ack(sender, unknown, "read", 2)])
    await pruning.handle([])  # the next sweep is an hour away: nothing is pruned before
    assert await waiting(engine) == [(sender, unknown, "read")]


async def test_a_provider_id_of_another_sender_does_not_match(engine):
    c, sender, other, pmid = await Campaign(engine).create(), new_id(), new_id(), wamid()
    updates = StatusUpdates(engine)
    await updates.handle([waha_ack(other, pmid, "read", 2)])  # before the `sent`
    await updates.handle([pool_status(c.mids[0], sender, "sent", 0, pmid)])
    await updates.handle([waha_ack(other, pmid, "delivered", 1)])  # after it
    row = await c.contact()
    assert (row["status"], row["delivered_at"], row["read_at"]) == ("sent", None, None)
    assert await waiting(engine) == [(other, pmid, "delivered"), (other, pmid, "read")]
    await updates.handle([waha_ack(sender, pmid, "delivered", 1)])
    assert (await c.contact())["status"] == "delivered"


async def test_an_ack_that_raced_the_sent_is_applied_by_the_sweep(engine):
    """The ack's transaction did not see the provider id yet, the `sent`'s did not see the ack: the
    waiting row outlives both, and the next sweep applies it."""
    c, sender, pmid = await Campaign(engine).create(), new_id(), wamid()
    updates = StatusUpdates(engine, sweep_every=3600)
    await updates.handle([pool_status(c.mids[0], sender, "sent", 0, pmid)])
    async with engine.begin() as conn:  # what the ack's transaction left
        await conn.execute(text(f"""INSERT INTO {SCHEMA}.provider_statuses (sender_id, provider_message_id,
                                    status, at) VALUES (:s, :p, 'delivered', :at)"""),
                           {"s": sender, "p": pmid, "at": T0 + timedelta(minutes=1)})
    await updates.handle([])  # not due yet
    assert (await c.contact())["status"] == "sent"
    progress = Progress()
    await StatusUpdates(engine, progress).handle([])  # a process's first batch sweeps
    row = await c.contact()
    assert (row["status"], row["delivered_at"]) == ("delivered", T0 + timedelta(minutes=1))
    assert await waiting(engine) == [] and progress.campaigns == {c.id}


async def test_migration_0005_downgrades_and_upgrades(engine, database_url):
    c, sender, pmid = await Campaign(engine).create(), new_id(), wamid()
    await StatusUpdates(engine).handle([pool_status(c.mids[0], sender, "sent", 0, pmid),
                                        waha_ack(sender, "other-" + pmid, "read", 1)])
    await engine.dispose()
    cfg = alembic_config(MIGRATIONS, DatabaseUrl.parse(database_url), SCHEMA)
    await asyncio.to_thread(command.downgrade, cfg, "0004")
    async with engine.connect() as conn:
        assert await conn.scalar(text(f"SELECT to_regclass('{SCHEMA}.provider_statuses')")) is None
        assert (await conn.execute(text(f"SELECT status FROM {SCHEMA}.contacts"))).scalar_one() == "sent"
    await engine.dispose()
    await asyncio.to_thread(command.upgrade, cfg, "head")
    assert (await c.contact())["provider_message_id"] is None
    assert await waiting(engine) == []


async def test_right_after_a_big_import_a_status_is_known_to_match_one_contact(engine):
    """Right after an import the table has no statistics yet. The message id's index is unique, so
    the planner still knows each status matches one contact (and at scale looks each up). Before
    migration 0006 it guessed 1/200 of the table per status, and scanned every contact per batch."""
    c = await Campaign(engine, size=20_000).create()
    n = 200
    params = {"mids": c.mids[:n], "pmids": [None] * n, "statuses": ["delivered"] * n, "ranks": [3] * n,
              "senders": [None] * n, "codes": [None] * n, "titles": [None] * n, "sent": [None] * n,
              "delivered": [T0] * n, "read": [None] * n, "finished": [None] * n}
    async with engine.connect() as conn:
        assert await conn.scalar(text(f"SELECT reltuples FROM pg_class WHERE oid = '{SCHEMA}.contacts'::regclass")) < 0
        plan = (await conn.execute(text("EXPLAIN (FORMAT JSON) " + UPDATE.text), params)).scalar_one()

    def nodes(node: dict):
        yield node
        for child in node.get("Plans", []):
            yield from nodes(child)

    update = next(x for x in nodes(plan[0]["Plan"]) if x["Node Type"] == "ModifyTable")
    assert update["Plans"][0]["Plan Rows"] <= 2 * n, update["Plans"][0]
