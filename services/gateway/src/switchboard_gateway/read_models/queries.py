"""Reads for the API, always scoped to one organization; lists use keyset (cursor) pagination."""

from __future__ import annotations

import json

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_runtime.http.pagination import keyset_page

from ..tables import SCHEMA


def _sender(r) -> dict:
    sender = {"id": r.id, "name": r.name, "provider": r.provider, "status": "paused" if r.paused else r.status,
              "connection": r.status, "status_reason": (r.paused or {}).get("reason") or r.status_reason,
              "paused": r.paused, "quotas": r.quotas, "phone_number": r.phone_number, "labels": r.labels,
              "connection_attempt": r.attempt or None, "retry_in_seconds": r.retry_in_seconds,
              "created_at": r.created_at, "updated_at": r.updated_at}
    if r.provider == "meta-cloud":  # non-secret identifiers only; credentials are never returned
        sender["config"] = {"phone_number_id": r.phone_number_id, "waba_id": r.waba_id}
    elif r.provider == "waha":
        sender["config"] = {"session": r.session}
    return sender


class Queries:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def _one(self, sql: str, **params):
        async with self.engine.connect() as conn:
            return (await conn.execute(text(sql), params)).first()

    async def _page(self, sql: str, order: str, cursor: str | None, limit: int, key, shape, **params):
        return await keyset_page(self.engine, sql, order, cursor, limit, key, shape, **params)

    async def sender(self, org_id: str, sender_id: str, *, removed: bool = False) -> dict | None:
        r = await self._one(f"SELECT * FROM {SCHEMA}.senders WHERE id = :id AND org_id = :org"
                            + ("" if removed else " AND removed_at IS NULL"), id=sender_id, org=org_id)
        return _sender(r) if r else None

    async def sender_owning(self, provider: str, account: str) -> str | None:
        """The id of the sender (in any organization) that owns a provider account, if any."""
        column = "phone_number_id" if provider == "meta-cloud" else "session"
        r = await self._one(f"SELECT id FROM {SCHEMA}.senders WHERE provider = :p AND {column} = :a"
                            " AND removed_at IS NULL",
                            p=provider, a=account)
        return r.id if r else None

    async def senders(self, org_id: str, cursor: str | None, limit: int, label: str | None = None) -> dict:
        return await self._page(f"SELECT * FROM {SCHEMA}.senders WHERE org_id = :org AND removed_at IS NULL"
                                + (" AND labels @> CAST(:label AS jsonb)" if label else ""), "ASC", cursor,
                                limit, "created_at", _sender, org=org_id,
                                **({"label": json.dumps([label])} if label else {}))

    async def sender_pool(self, org_id: str, *, ids: list[str] | None = None, label: str | None = None) -> dict:
        """A pool's senders in the organization (listed ids, or those carrying a label; not removed):
        how many there are, how many can send now (connected, not paused), and for listed ids which."""
        listed = ids is not None
        r = await self._one(
            "SELECT count(*) AS members, count(*) FILTER (WHERE status = 'connected' AND paused IS NULL) AS ready,"
            + (" array_agg(id) AS found" if listed else " NULL AS found")
            + f" FROM {SCHEMA}.senders WHERE org_id = :org AND removed_at IS NULL AND "
            + ("id = ANY(CAST(:ids AS text[]))" if listed else "labels @> CAST(:label AS jsonb)"),
            org=org_id, **({"ids": ids} if listed else {"label": json.dumps([label])}))
        return {"members": r.members, "ready": r.ready,
                "found": set(r.found or ()) if listed else None}

    async def database_ok(self) -> bool:
        try:
            await self._one("SELECT 1")
            return True
        except Exception:  # noqa: BLE001
            return False
