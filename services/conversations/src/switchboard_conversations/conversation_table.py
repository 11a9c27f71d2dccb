"""The conversations list (`conversations`: last message, preview, count) and the conversations a
batch opens (`conversations_to_start`, for the starter), written with the messages that change them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from .records import NewMessage
from .tables import SCHEMA

C = f"{SCHEMA}.conversations"

UPSERT = text(f"""
    INSERT INTO {C} (id, org_id, sender_id, contact, contact_name, started_at, last_message_at,
                     last_message_preview, message_count)
    SELECT * FROM unnest(CAST(:ids AS text[]), CAST(:orgs AS text[]), CAST(:sids AS text[]),
        CAST(:contacts AS text[]), CAST(:names AS text[]), CAST(:started AS timestamptz[]),
        CAST(:lasts AS timestamptz[]), CAST(:previews AS text[]), CAST(:counts AS int[]))
    ON CONFLICT (id) DO UPDATE SET
        contact_name = COALESCE(excluded.contact_name, {C}.contact_name),
        started_at = LEAST(excluded.started_at, {C}.started_at),
        last_message_preview = CASE WHEN excluded.last_message_at >= {C}.last_message_at
            THEN excluded.last_message_preview ELSE {C}.last_message_preview END,
        last_message_at = GREATEST(excluded.last_message_at, {C}.last_message_at),
        message_count = {C}.message_count + excluded.message_count""")
TO_START = text(f"""
    INSERT INTO {SCHEMA}.conversations_to_start
        (conversation_id, org_id, sender_id, contact, contact_name, started_at)
    SELECT u.cid, u.org, u.sid, u.contact, u.name, u.at
    FROM unnest(CAST(:cids AS text[]), CAST(:orgs AS text[]), CAST(:sids AS text[]),
                CAST(:contacts AS text[]), CAST(:names AS text[]), CAST(:ats AS timestamptz[]))
         AS u(cid, org, sid, contact, name, at)
    WHERE NOT EXISTS (SELECT 1 FROM {SCHEMA}.started_conversations s WHERE s.conversation_id = u.cid)
    ON CONFLICT (conversation_id) DO NOTHING""")


@dataclass
class _Change:
    first: NewMessage
    last: NewMessage
    count: int = 0
    contact_name: str | None = None


async def record(conn: AsyncConnection, messages: list[NewMessage]) -> bool:
    """Count newly recorded messages into their conversations (created when new) and note the
    conversations to start; returns whether any is to be started."""
    changes: dict[str, _Change] = {}
    for m in messages:
        if m.conversation_id is None:
            continue  # a pool message: it joins its conversation when its sender is known
        c = changes.setdefault(m.conversation_id, _Change(m, m))
        if m.at < c.first.at:
            c.first = m
        if m.at >= c.last.at:
            c.last = m
        c.count += 1
        c.contact_name = c.contact_name or m.contact_name
    if not changes:
        return False
    rows = list(changes.items())
    await conn.execute(UPSERT, {
        "ids": [cid for cid, _ in rows], "orgs": [c.first.org_id for _, c in rows],
        "sids": [c.first.sender_id for _, c in rows], "contacts": [c.first.contact for _, c in rows],
        "names": [c.contact_name for _, c in rows], "started": [c.first.at for _, c in rows],
        "lasts": [c.last.at for _, c in rows], "previews": [c.last.preview for _, c in rows],
        "counts": [c.count for _, c in rows]})
    result = await conn.execute(TO_START, {
        "cids": [cid for cid, _ in rows], "orgs": [c.first.org_id for _, c in rows],
        "sids": [c.first.sender_id for _, c in rows], "contacts": [c.first.contact for _, c in rows],
        "names": [c.contact_name for _, c in rows], "ats": [c.first.at for _, c in rows]})
    return result.rowcount > 0

