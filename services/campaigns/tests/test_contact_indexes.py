"""A contact's `queued`, `delivered` and `read` are heap-only updates (no index holds its status: each used
to add an entry to every index of the table); the runner reads the pending contacts from its cursor in
the primary key's order and the statistics' failures are found through their partial index; an import that grows the table by a tenth or more leaves the
planner's statistics up to date. Against real PostgreSQL, with PostgreSQL's own counters."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_campaigns.contacts_store import ANALYZE_AT, FAILED_BY_CODE, ContactsStore
from switchboard_campaigns.domain.contacts import Contact
from switchboard_campaigns.runner import MARK, TAKE
from switchboard_campaigns.status_updates import StatusUpdates
from switchboard_contracts.ids import new_id

from .test_provider_statuses import Campaign, pool_status, wamid

FLUSH = text("SELECT pg_stat_force_next_flush()")  # this backend's counters, once it is idle again
ANALYZED = text("""SELECT analyze_count FROM pg_stat_user_tables
                   WHERE schemaname = 'campaigns' AND relname = 'contacts'""")
KNOWN_ROWS = text("SELECT reltuples FROM pg_class WHERE oid = CAST('campaigns.contacts' AS regclass)")
UPDATES = text("""SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables
                  WHERE schemaname = 'campaigns' AND relname = 'contacts'""")


async def updated(engine: AsyncEngine) -> tuple[int, int]:
    """(updates, heap-only updates) of the contacts table so far. The units of work here run one after
    another, so the pool reuses the one connection it opened: flushing that backend's counters counts
    them all (a count from another backend would be short, and fail the test, never pass it)."""
    async with engine.connect() as conn:
        await conn.execute(FLUSH)
    async with engine.connect() as conn:
        upd, hot = (await conn.execute(UPDATES)).one()
        return int(upd), int(hot)


async def test_delivered_and_read_update_contacts_in_place(engine):
    c, sender = await Campaign(engine, 10).create(), new_id()
    updates = StatusUpdates(engine)
    await updates.handle([pool_status(m, sender, "sent", 0, wamid(i)) for i, m in enumerate(c.mids)])
    before = await updated(engine)

    await updates.handle([pool_status(m, sender, "delivered", 1) for m in c.mids])
    await updates.handle([pool_status(m, sender, "read", 2) for m in c.mids])

    upd, hot = await updated(engine)
    assert upd - before[0] == 20  # each contact twice
    assert hot - before[1] == 20, "a delivered or read contact got new index entries"
    assert (await c.contact(9))["status"] == "read"


async def plan(engine: AsyncEngine, statement, params: dict) -> str:
    async with engine.connect() as conn:
        await conn.execute(text("SET enable_seqscan = off"))  # a tiny table: the planner would scan it whole
        explained = await conn.execute(text(f"EXPLAIN {statement.text}"), params)
        return "\n".join(r[0] for r in explained)


async def test_the_runner_reads_the_primary_key_in_order_and_the_statistics_their_partial_index(engine):
    cid = new_id()
    take = await plan(engine, TAKE, {"cid": cid, "org": "o", "n": 10, "after": 0})
    assert "contacts_pkey" in take and "Sort" not in take  # from the cursor on, in seq order
    assert "contacts_failed" in await plan(engine, FAILED_BY_CODE, {"cid": cid})


async def mark(engine: AsyncEngine, cid: str, seqs: list[int]) -> int:
    async with engine.begin() as conn:
        result = await conn.execute(MARK, {"cid": cid, "seqs": seqs, "statuses": ["queued"] * len(seqs),
                                           "codes": [None] * len(seqs), "titles": [None] * len(seqs)})
        return result.rowcount


async def test_marking_a_contact_queued_is_a_heap_only_update_of_pending_contacts_only(engine):
    cid = new_id()
    async with ContactsStore(engine).upload("org-mark", cid) as upload:
        await upload.add([Contact(f"+49152{i:08d}", None, {}) for i in range(10)])
    before = await updated(engine)
    assert await mark(engine, cid, list(range(1, 11))) == 10
    upd, hot = await updated(engine)
    assert (upd - before[0], hot - before[1]) == (10, 10), "the queued mark got new index entries"

    sent = await Campaign(engine, 3).create()  # contacts that left `pending` (queued here) are not marked
    assert await mark(engine, sent.id, [1, 2, 3]) == 0


async def imported(engine: AsyncEngine, n: int) -> tuple[int, float]:
    """Import `n` contacts into a new campaign: (ANALYZEs of the table so far, the rows the planner knows of).
    `analyze_count` counts ANALYZE commands only, never autovacuum's."""
    async with ContactsStore(engine).upload("org-analyze", new_id()) as upload:
        await upload.add([Contact(f"+49151{i:08d}", None, {}) for i in range(n)])
    async with engine.connect() as conn:
        return (await conn.execute(ANALYZED)).scalar_one(), (await conn.execute(KNOWN_ROWS)).scalar_one()


async def test_an_import_that_grows_the_table_by_a_tenth_leaves_its_statistics_current(engine):
    before, _ = await imported(engine, 10)  # too few to analyze for
    async with engine.connect() as conn:
        present = (await conn.execute(text("SELECT count(*) FROM campaigns.contacts"))).scalar_one()
    big = max(10 * ANALYZE_AT + 1, present + 1)  # a tenth or more of what is there, whatever other tests added
    count, known = await imported(engine, big)
    assert count == before + 1
    assert known >= present + big  # the import's own rows counted: ANALYZE ran in its transaction

    small, _ = await imported(engine, ANALYZE_AT)  # enough contacts, but under a tenth of the table now
    assert small == count
