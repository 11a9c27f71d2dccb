"""The organization's blocklist: numbers no campaign sends to (checked at import and again right before
each send). Added by the API or by the contact writing STOP (or another opt-out keyword); removed by the
API or by START."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from .tables import SCHEMA

ADD = text(f"""INSERT INTO {SCHEMA}.blocklist (org_id, phone, reason, source) VALUES (:org, :phone, :reason, :source)
               ON CONFLICT (org_id, phone) DO NOTHING RETURNING phone""")
REMOVE = text(f"DELETE FROM {SCHEMA}.blocklist WHERE org_id = :org AND phone = :phone RETURNING phone")
PAGE = text(f"""SELECT phone, reason, source, created_at FROM {SCHEMA}.blocklist
                WHERE org_id = :org AND phone > :after ORDER BY phone LIMIT :lim""")


class Blocklist:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def add(self, org_id: str, phone: str, reason: str | None, source: str) -> bool:
        """True when the number was not blocked before."""
        async with self.engine.begin() as conn:
            return (await conn.execute(ADD, {"org": org_id, "phone": phone, "reason": reason,
                                             "source": source})).first() is not None

    async def remove(self, org_id: str, phone: str) -> bool:
        async with self.engine.begin() as conn:
            return (await conn.execute(REMOVE, {"org": org_id, "phone": phone})).first() is not None

    async def page(self, org_id: str, after: str, limit: int) -> list[dict]:
        async with self.engine.connect() as conn:
            return [dict(r._mapping) for r in await conn.execute(PAGE, {"org": org_id, "after": after, "lim": limit})]
