"""However the history's batches cut a stream of message events, the rows end the same: a message's
statuses folded into its new row (`first_statuses`) give what applying them one event at a time gives —
statuses before, with and after their message, statuses known only by provider id, repeats, a pool
message sent by another sender, failures with their error. (A repeat carries the time of the first
report, as a provider's retry does: which of two different times a timeline keeps for one status
depends on the order they are applied in, by design the first.) A real PostgreSQL; random streams
from fixed seeds."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from switchboard_conversations.history import record
from switchboard_conversations.main import MIGRATIONS
from switchboard_conversations.records import NewMessage, StatusUpdate, iso
from switchboard_conversations.tables import SCHEMA
from switchboard_runtime.database import async_engine, migrate
from switchboard_runtime.settings import DatabaseUrl

SENDER, OTHER = "sender-a", "sender-b"
START = datetime(2026, 12, 1, 12, tzinfo=UTC)
ROWS = text(f"""SELECT message_id, sender_id, status, status_at, statuses, error, provider_message_id
                FROM {SCHEMA}.conversation_messages WHERE message_id LIKE :prefix ORDER BY message_id""")
PENDING = text(f"SELECT message_id, status, at FROM {SCHEMA}.pending_statuses WHERE message_id LIKE :like "
               "ORDER BY message_id, status")


def _stream(rng: random.Random, tag: str) -> list[NewMessage | StatusUpdate]:
    """A few messages' events in an order a broker could deliver them (tag: the run's own ids)."""
    events: list[NewMessage | StatusUpdate] = []
    for i in range(rng.randint(1, 4)):
        mid, pmid = f"{tag}-m{i}", f"wamid.{tag}.{i}"
        at = START + timedelta(seconds=rng.randint(0, 5))
        sent_by = OTHER if rng.random() < 0.15 else SENDER
        events.append(NewMessage(mid, "org-1", SENDER, f"+4915100000{i:03d}", "outbound", "text", "hi", None,
                                 None, at))
        stamp = lambda k: iso(at + timedelta(milliseconds=rng.randint(0, 400) + 100 * k))  # noqa: E731
        events.append(StatusUpdate(mid, "sent", stamp(1), None, pmid, sent_by))
        for k, status in enumerate(("delivered", "read"), start=2):
            if rng.random() < 0.8:
                by_provider_id = rng.random() < 0.3  # a WAHA ack: the provider id alone
                events.append(StatusUpdate(None if by_provider_id else mid, status, stamp(k), None, pmid, sent_by))
                if rng.random() < 0.25:  # the provider reports it again (its own retry: the same time)
                    events.append(StatusUpdate(mid, status, events[-1].at, None, None, sent_by))
        if rng.random() < 0.15:
            events.append(StatusUpdate(mid, "failed", stamp(4), {"code": 131026, "title": "undeliverable"},
                                       None, sent_by))
    rng.shuffle(events)
    return events


async def _apply(engine, batches: list[list[NewMessage | StatusUpdate]]) -> None:
    for batch in batches:
        async with engine.begin() as conn:
            await record(conn, [e for e in batch if isinstance(e, NewMessage)],
                         [e for e in batch if isinstance(e, StatusUpdate)])


def _cut(rng: random.Random, events: list) -> list[list]:
    batches, current = [], []
    for e in events:
        current.append(e)
        if rng.random() < 0.3:
            batches.append(current)
            current = []
    return batches + ([current] if current else [])


async def _ended(engine, tag: str) -> tuple[list, list]:
    async with engine.connect() as conn:
        rows = [tuple(str(v).replace(tag, "") for v in r) for r in await conn.execute(ROWS, {"prefix": f"{tag}-%"})]
        pending = [tuple(str(v).replace(tag, "") for v in r)
                   for r in await conn.execute(PENDING, {"like": f"%{tag}%"})]
    return rows, pending


async def test_any_cut_of_a_stream_into_batches_ends_as_one_event_at_a_time(database_url):
    db = DatabaseUrl.parse(database_url)
    await migrate(MIGRATIONS, db, SCHEMA)
    engine = async_engine(db, pool_size=2)
    with_statuses = 0
    try:
        for seed in range(40):
            events = _stream(random.Random(seed), "T")
            one_by_one, whole, cut = f"s{seed}a", f"s{seed}b", f"s{seed}c"
            await _apply(engine, [[_renamed(e, one_by_one)] for e in events])
            await _apply(engine, [[_renamed(e, whole) for e in events]])
            await _apply(engine, [[_renamed(e, cut) for e in b] for b in _cut(random.Random(-seed), events)])
            expected = await _ended(engine, one_by_one)
            assert await _ended(engine, whole) == expected, seed
            assert await _ended(engine, cut) == expected, seed
            with_statuses += any(r[2] != "queued" for r in expected[0])
    finally:
        await engine.dispose()
    assert with_statuses > 20  # the streams did carry statuses (that they fold: the next test)


def _renamed(e: NewMessage | StatusUpdate, tag: str) -> NewMessage | StatusUpdate:
    """The event with the run's tag in place of "T" in its ids (each run has rows of its own)."""
    if isinstance(e, NewMessage):
        return NewMessage(e.message_id.replace("T", tag), e.org_id, e.sender_id, e.contact, e.direction, e.type,
                          e.text, e.client_ref, e.provider_message_id, e.at)
    return StatusUpdate(e.message_id and e.message_id.replace("T", tag), e.status, e.at, e.error,
                        e.provider_message_id and e.provider_message_id.replace("T", tag), e.sender_id)


async def test_a_message_and_its_statuses_in_one_batch_are_written_once(database_url):
    db = DatabaseUrl.parse(database_url)
    await migrate(MIGRATIONS, db, SCHEMA)
    engine = async_engine(db, pool_size=1)
    m = NewMessage("once-1", "org-1", SENDER, "+4915100000999", "outbound", "text", "hi", None, None, START)
    at = [iso(START + timedelta(milliseconds=ms)) for ms in (10, 60, 210)]
    try:
        async with engine.begin() as conn:
            await record(conn, [m], [StatusUpdate("once-1", "sent", at[0], None, "wamid.once", SENDER),
                                     StatusUpdate("once-1", "delivered", at[1], None, "wamid.once", SENDER),
                                     StatusUpdate("once-1", "read", at[2], None, None, SENDER)])
            updated = (await conn.execute(text(
                "SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = 'conversation_messages'"))).scalar()
        async with engine.connect() as conn:
            row = (await conn.execute(ROWS, {"prefix": "once-%"})).one()
    finally:
        await engine.dispose()
    assert updated == 0  # inserted with its statuses, not updated after
    assert (row.status, row.status_at, row.provider_message_id) == ("read", at[2], "wamid.once")
    assert [s["status"] for s in row.statuses] == ["queued", "sent", "delivered", "read"]  # by time, not as text
