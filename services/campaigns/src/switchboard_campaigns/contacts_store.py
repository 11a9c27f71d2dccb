"""A campaign's contacts in `campaigns.contacts`: added in batches (deduplicated by phone across
imports, blocklisted numbers recorded as `blocked`), listed with cursor pagination, and counted per
status (`counts.py`, kept exact by triggers).

An import that grows the table by a tenth or more (at least ANALYZE_AT contacts) ends with ANALYZE,
in its own transaction (which counts its own rows): a campaign usually starts right after its import,
and until autovacuum's next round (a minute by default) the planner would plan the runner's and the
statistics' statements for the table as it was — with 100,000 contacts imported into an empty table,
a full scan and an on-disk sort of every pending contact for each batch of 500, and a hash join over
the whole table for each batch of statuses, where the indexes give the rows directly."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_contracts.campaign import campaign_message_id

from .counts import counts as count_statuses
from .domain.contacts import Contact
from .tables import SCHEMA

ADD = text(f"""
    WITH base AS (SELECT coalesce(max(seq), 0) AS s FROM {SCHEMA}.contacts WHERE campaign_id = :cid)
    INSERT INTO {SCHEMA}.contacts (campaign_id, seq, phone, name, variables, status, message_id)
    SELECT :cid, base.s + u.i, u.phone, u.name, CAST(u.vars AS jsonb),
           CASE WHEN b.phone IS NULL THEN 'pending' ELSE 'blocked' END, CAST(u.mid AS uuid)
    FROM base, unnest(CAST(:phones AS text[]), CAST(:names AS text[]), CAST(:vars AS text[]),
                      CAST(:mids AS text[])) WITH ORDINALITY AS u(phone, name, vars, mid, i)
    LEFT JOIN {SCHEMA}.blocklist b ON b.org_id = :org AND b.phone = u.phone
    ON CONFLICT (campaign_id, phone) DO NOTHING
    RETURNING status""")
LOCK = text("SELECT pg_advisory_xact_lock(hashtext(:cid))")
ROWS_KNOWN = text(f"SELECT reltuples FROM pg_class WHERE oid = CAST('{SCHEMA}.contacts' AS regclass)")
ANALYZE = text(f"ANALYZE {SCHEMA}.contacts")
ANALYZE_AT = 1000  # contacts added by one import, at least, for it to end with ANALYZE
FAILED_BY_CODE = text(f"""
    SELECT coalesce(error_code, 'unknown') AS code, count(*) AS n FROM {SCHEMA}.contacts
    WHERE campaign_id = :cid AND failed GROUP BY 1  -- the flag the partial index reads""")
LIST = text(f"""
    SELECT seq, phone, name, status, message_id, sender_id, error_code, error_title, queued_at, sent_at,
           delivered_at, read_at, finished_at
    FROM {SCHEMA}.contacts WHERE campaign_id = :cid AND seq > :after
      AND (CAST(:status AS text) IS NULL OR status = :status)
    ORDER BY seq LIMIT :lim""")

CAMPAIGNS = text(f"""
    SELECT campaign_id, status, spec ->> 'name' AS name, updated_at FROM {SCHEMA}.runs
    WHERE org_id = :org AND (CAST(:after AS uuid) IS NULL OR campaign_id > CAST(:after AS uuid))
    ORDER BY campaign_id LIMIT :lim""")

STATUSES = ("pending", "queued", "sent", "delivered", "read", "failed", "blocked", "expired", "cancelled")


class ContactsStore:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    @contextlib.asynccontextmanager
    async def upload(self, org_id: str, campaign_id: str):
        """One import, all or nothing: its batches go in one transaction (one import of a campaign at
        a time), committed when the upload ends well, rolled back when it fails."""
        async with self.engine.begin() as conn:
            await conn.execute(LOCK, {"cid": campaign_id})
            upload = Upload(conn, org_id, campaign_id)
            yield upload
            if upload.added >= ANALYZE_AT and upload.added >= 0.1 * (await conn.execute(ROWS_KNOWN)).scalar_one():
                await conn.execute(ANALYZE)  # reltuples is -1 before the first ANALYZE

    async def stats(self, campaign_id: str) -> dict:
        async with self.engine.connect() as conn:
            counts = await count_statuses(conn, campaign_id)
            failed = {r.code: int(r.n) for r in await conn.execute(FAILED_BY_CODE, {"cid": campaign_id})} \
                if counts.get("failed") else {}
        raw = {s: counts.get(s, 0) for s in STATUSES}
        # sent, delivered and read are cumulative: a read message was also delivered and sent
        stats = {**raw, "sent": raw["sent"] + raw["delivered"] + raw["read"],
                 "delivered": raw["delivered"] + raw["read"], "total": sum(counts.values()),
                 "failed_by_code": failed}
        attempted = stats["sent"] + raw["failed"] + raw["expired"]
        stats["rates"] = {
            "delivered": round(stats["delivered"] / stats["sent"], 4) if stats["sent"] else None,
            "read": round(raw["read"] / stats["sent"], 4) if stats["sent"] else None,
            "failed": round(raw["failed"] / attempted, 4) if attempted else None,
            "done": round((attempted + raw["blocked"]) / stats["total"], 4) if stats["total"] else None,
        }
        return stats

    async def page(self, campaign_id: str, status: str | None, after: int, limit: int) -> list[dict]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(LIST, {"cid": campaign_id, "status": status, "after": after, "lim": limit})
            return [dict(r._mapping) for r in rows]

    async def campaigns(self, org_id: str, cursor: str | None, limit: int) -> dict:
        """The organization's campaigns (id order, cursor = the last id), each with its counts."""
        async with self.engine.connect() as conn:
            rows = list(await conn.execute(CAMPAIGNS, {"org": org_id, "after": cursor, "lim": limit}))
        items = [{"id": str(r.campaign_id), "name": r.name, "status": r.status, "updated_at": r.updated_at,
                  "stats": await self.stats(str(r.campaign_id))} for r in rows]
        return {"items": items, "next_cursor": items[-1]["id"] if len(items) == limit else None}


class Upload:
    def __init__(self, conn, org_id: str, campaign_id: str):
        self.conn, self.org_id, self.campaign_id = conn, org_id, campaign_id
        self.added = self.duplicates = self.blocked = 0

    async def add(self, contacts: Sequence[Contact]) -> None:
        """Add a batch; contacts already in the campaign count as duplicates, blocklisted ones as blocked."""
        if not contacts:
            return
        cid = self.campaign_id
        statuses = [r[0] for r in await self.conn.execute(ADD, {
            "cid": cid, "org": self.org_id, "phones": [c.phone for c in contacts],
            "names": [c.name for c in contacts],
            "vars": [json.dumps(c.variables) if c.variables else None for c in contacts],
            "mids": [campaign_message_id(cid, c.phone) for c in contacts]})]
        self.added += len(statuses)
        self.duplicates += len(contacts) - len(statuses)
        self.blocked += statuses.count("blocked")
