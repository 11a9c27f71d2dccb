"""Each organization's inbox settings: whether an open conversation with no activity for
`auto_resolve_after_seconds` (24 hours by default) is resolved by itself — off by default."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from .tables import SCHEMA

DEFAULTS = {"auto_resolve": False, "auto_resolve_after_seconds": 86_400}
GET = text(f"SELECT auto_resolve, auto_resolve_after_seconds FROM {SCHEMA}.inbox_settings WHERE org_id = :org")
PUT = text(f"""
    INSERT INTO {SCHEMA}.inbox_settings (org_id, auto_resolve, auto_resolve_after_seconds)
    VALUES (:org, COALESCE(:auto, false), COALESCE(:after, 86400))
    ON CONFLICT (org_id) DO UPDATE SET
        auto_resolve = COALESCE(:auto, {SCHEMA}.inbox_settings.auto_resolve),
        auto_resolve_after_seconds = COALESCE(:after, {SCHEMA}.inbox_settings.auto_resolve_after_seconds),
        updated_at = now()
    RETURNING auto_resolve, auto_resolve_after_seconds""")


class InboxSettings:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def get(self, org_id: str) -> dict:
        async with self.engine.connect() as conn:
            row = (await conn.execute(GET, {"org": org_id})).first()
        return dict(row._mapping) if row else dict(DEFAULTS)

    async def update(self, org_id: str, auto_resolve: bool | None, after: int | None) -> dict:
        async with self.engine.begin() as conn:
            row = (await conn.execute(PUT, {"org": org_id, "auto": auto_resolve, "after": after})).first()
        return dict(row._mapping)
