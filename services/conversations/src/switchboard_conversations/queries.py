"""Reads of messages for the API, always scoped to one organization; lists use
keyset (cursor) pagination."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_runtime.http.pagination import keyset_page

from .tables import SCHEMA


def _message(r) -> dict:
    outbound = r.direction == "outbound"
    return {"id": r.message_id, "sender_id": r.sender_id, "conversation_id": r.conversation_id,
            "direction": r.direction, "from": r.from_number if outbound else r.contact,
            "to": r.contact if outbound else r.to_number, "type": r.type, "text": r.text,
            "client_ref": r.client_ref, "agent_id": r.agent_id, "status": r.status, "statuses": r.statuses,
            "error": r.error,
            "provider_message_id": r.provider_message_id, "created_at": r.created_at,
            "updated_at": r.updated_at}


class Queries:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def _one(self, sql: str, **params):
        async with self.engine.connect() as conn:
            return (await conn.execute(text(sql), params)).first()

    async def message(self, org_id: str, message_id: str) -> dict | None:
        r = await self._one(f"SELECT * FROM {SCHEMA}.conversation_messages WHERE message_id = :id AND org_id = :org",
                            id=message_id, org=org_id)
        return _message(r) if r else None

    async def conversation_messages(self, org_id: str, conversation_id: str, cursor: str | None,
                                    limit: int) -> dict:
        return await keyset_page(
            self.engine, f"SELECT * FROM {SCHEMA}.conversation_messages WHERE org_id = :org"
                         " AND conversation_id = :cid", "ASC", cursor, limit, "created_at", _message,
            id_column="message_id", org=org_id, cid=conversation_id)

    async def database_ok(self) -> bool:
        try:
            await self._one("SELECT 1")
            return True
        except Exception:  # noqa: BLE001
            return False
