"""Broadcast lists: named, reusable contact lists of an organization. Sending one creates a campaign
from its contacts (so each send is tracked like a campaign), sent in chunks with a pause between."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from .domain.contacts import Contact
from .tables import SCHEMA

CREATE = text(f"INSERT INTO {SCHEMA}.broadcast_lists (list_id, org_id, name) VALUES (:id, :org, :name)")
GET = text(f"""SELECT l.list_id, l.name, l.created_at,
                      (SELECT count(*) FROM {SCHEMA}.broadcast_contacts c WHERE c.list_id = l.list_id) AS contacts
               FROM {SCHEMA}.broadcast_lists l WHERE l.list_id = CAST(:id AS uuid) AND l.org_id = :org""")
PAGE = text(f"""SELECT list_id FROM {SCHEMA}.broadcast_lists WHERE org_id = :org
                AND (CAST(:after AS uuid) IS NULL OR list_id > CAST(:after AS uuid)) ORDER BY list_id LIMIT :lim""")
DELETE = text(f"DELETE FROM {SCHEMA}.broadcast_lists WHERE list_id = CAST(:id AS uuid) AND org_id = :org RETURNING list_id")
DELETE_CONTACTS = text(f"DELETE FROM {SCHEMA}.broadcast_contacts WHERE list_id = CAST(:id AS uuid)")
LOCK = text("SELECT pg_advisory_xact_lock(hashtext(:id))")
ADD = text(f"""
    WITH base AS (SELECT coalesce(max(seq), 0) AS s FROM {SCHEMA}.broadcast_contacts WHERE list_id = CAST(:id AS uuid))
    INSERT INTO {SCHEMA}.broadcast_contacts (list_id, seq, phone, name, variables)
    SELECT CAST(:id AS uuid), base.s + u.i, u.phone, u.name, CAST(u.vars AS jsonb)
    FROM base, unnest(CAST(:phones AS text[]), CAST(:names AS text[]), CAST(:vars AS text[]))
         WITH ORDINALITY AS u(phone, name, vars, i)
    ON CONFLICT (list_id, phone) DO NOTHING RETURNING 1""")
CONTACTS = text(f"""SELECT seq, phone, name, variables FROM {SCHEMA}.broadcast_contacts
                    WHERE list_id = CAST(:id AS uuid) AND seq > :after ORDER BY seq LIMIT :lim""")
LACKING = text(f"""SELECT phone FROM {SCHEMA}.broadcast_contacts WHERE list_id = CAST(:id AS uuid)
                   AND ((:needs_name AND name IS NULL)
                        OR NOT (coalesce(variables, '{{}}'::jsonb) ?& CAST(:keys AS text[]))) LIMIT 5""")


class BroadcastLists:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def create(self, list_id: str, org_id: str, name: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(CREATE, {"id": list_id, "org": org_id, "name": name})

    async def get(self, org_id: str, list_id: str) -> dict | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(GET, {"id": list_id, "org": org_id})).first()
        return {"id": str(row.list_id), "name": row.name, "contacts": row.contacts,
                "created_at": row.created_at} if row else None

    async def page(self, org_id: str, cursor: str | None, limit: int) -> dict:
        async with self.engine.connect() as conn:
            ids = [str(r[0]) for r in await conn.execute(PAGE, {"org": org_id, "after": cursor, "lim": limit})]
        items = [await self.get(org_id, i) for i in ids]
        return {"items": items, "next_cursor": ids[-1] if len(ids) == limit else None}

    async def delete(self, org_id: str, list_id: str) -> bool:
        async with self.engine.begin() as conn:
            if (await conn.execute(DELETE, {"id": list_id, "org": org_id})).first() is None:
                return False
            await conn.execute(DELETE_CONTACTS, {"id": list_id})
            return True

    @contextlib.asynccontextmanager
    async def upload(self, list_id: str):
        """One import into a list, all or nothing."""
        async with self.engine.begin() as conn:
            await conn.execute(LOCK, {"id": list_id})
            yield ListUpload(conn, list_id)

    async def lacking(self, list_id: str, required: set[str]) -> list[str]:
        """Up to 5 contacts of the list without a variable the content needs (no default)."""
        keys = sorted(required - {"name", "phone"})
        async with self.engine.connect() as conn:
            rows = await conn.execute(LACKING, {"id": list_id, "needs_name": "name" in required, "keys": keys})
            return [r[0] for r in rows]

    async def contacts(self, list_id: str, page: int = 5000) -> AsyncIterator[list[Contact]]:
        after = 0
        while True:
            async with self.engine.connect() as conn:
                rows = list(await conn.execute(CONTACTS, {"id": list_id, "after": after, "lim": page}))
            if rows:
                yield [Contact(r.phone, r.name, dict(r.variables or {})) for r in rows]
            if len(rows) < page:
                return
            after = rows[-1].seq


class ListUpload:
    def __init__(self, conn, list_id: str):
        self.conn, self.list_id = conn, list_id
        self.added = self.duplicates = 0

    async def add(self, contacts: Sequence[Contact]) -> None:
        if not contacts:
            return
        added = len(list(await self.conn.execute(ADD, {
            "id": self.list_id, "phones": [c.phone for c in contacts], "names": [c.name for c in contacts],
            "vars": [json.dumps(c.variables) if c.variables else None for c in contacts]})))
        self.added += added
        self.duplicates += len(contacts) - added
