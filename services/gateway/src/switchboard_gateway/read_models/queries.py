"""Reads for the API, always scoped to one organization; lists use keyset (cursor) pagination."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ..tables import SCHEMA


class BadCursor(ValueError):
    pass


def encode_cursor(*key: Any) -> str:
    raw = json.dumps([k.isoformat() if isinstance(k, datetime) else k for k in key])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
        if not isinstance(key, list) or len(key) != 2:
            raise ValueError
        return [datetime.fromisoformat(key[0]), str(key[1])]
    except (ValueError, TypeError) as exc:
        raise BadCursor("cursor is not one this API issued") from exc


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


def _message(r) -> dict:
    return {"id": r.id, "sender_id": r.sender_id, "conversation_id": r.conversation_id,
            "direction": r.direction, "from": r.from_number or None, "to": r.to_number, "type": r.type,
            "text": r.text, "client_ref": r.client_ref, "status": r.status, "statuses": r.statuses,
            "error": r.error, "provider_message_id": r.provider_message_id,
            "created_at": r.created_at, "updated_at": r.updated_at}


def _conversation(r) -> dict:
    return {"id": r.id, "sender_id": r.sender_id, "contact": r.contact, "contact_name": r.contact_name,
            "started_at": r.started_at, "last_message_at": r.last_message_at,
            "last_message_preview": r.last_message_preview, "message_count": r.message_count}


class Queries:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def _one(self, sql: str, **params):
        async with self.engine.connect() as conn:
            return (await conn.execute(text(sql), params)).first()

    async def _page(self, sql: str, order: str, cursor: str | None, limit: int, key, shape, **params):
        """`sql` selects with WHERE; keyset on (sort column, id) in `order` direction."""
        op = "<" if order == "DESC" else ">"
        sort_col = key
        if cursor:
            at, last_id = decode_cursor(cursor)
            sql += f" AND ({sort_col}, id) {op} (:c_at, :c_id)"
            params.update(c_at=at, c_id=last_id)
        sql += f" ORDER BY {sort_col} {order}, id {order} LIMIT :lim"
        async with self.engine.connect() as conn:
            rows = list(await conn.execute(text(sql), {**params, "lim": limit + 1}))
        items = [shape(r) for r in rows[:limit]]
        next_cursor = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_cursor = encode_cursor(getattr(last, sort_col), last.id)
        return {"items": items, "next_cursor": next_cursor}

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

    async def message(self, org_id: str, message_id: str) -> dict | None:
        r = await self._one(f"SELECT * FROM {SCHEMA}.messages WHERE id = :id AND org_id = :org",
                            id=message_id, org=org_id)
        return _message(r) if r else None

    async def conversation(self, org_id: str, conversation_id: str) -> dict | None:
        r = await self._one(f"SELECT * FROM {SCHEMA}.conversations WHERE id = :id AND org_id = :org",
                            id=conversation_id, org=org_id)
        return _conversation(r) if r else None

    async def conversations(self, org_id: str, cursor: str | None, limit: int) -> dict:
        return await self._page(f"SELECT * FROM {SCHEMA}.conversations WHERE org_id = :org", "DESC",
                                cursor, limit, "last_message_at", _conversation, org=org_id)

    async def conversation_messages(self, org_id: str, conversation_id: str, cursor: str | None,
                                    limit: int) -> dict:
        return await self._page(
            f"SELECT * FROM {SCHEMA}.messages WHERE org_id = :org AND conversation_id = :cid", "ASC",
            cursor, limit, "created_at", _message, org=org_id, cid=conversation_id)

    async def database_ok(self) -> bool:
        try:
            await self._one("SELECT 1")
            return True
        except Exception:  # noqa: BLE001
            return False
