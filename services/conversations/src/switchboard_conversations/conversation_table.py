"""The conversations list (`conversations`: last message, preview, count, since when the contact waits
for a reply), the conversations a contact's message opens (`conversations_to_start`, for the starter) and
those an inbound message reopens (`conversations_to_reopen`, for the reopener), written with the messages that
change them. The upsert takes each conversation's row lock, so a status change (`lifecycle.py`, which
holds the same lock) is seen either wholly before or wholly after."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from .records import NewMessage
from .tables import SCHEMA

C = f"{SCHEMA}.conversations"

UPSERT = text(f"""
    INSERT INTO {C} (id, org_id, sender_id, contact, contact_name, started_at, last_message_at,
                     last_message_preview, message_count, waiting_since, last_inbound_at, sla_started_at,
                     sla_dirty, first_inbound_at)
    SELECT * FROM unnest(CAST(:ids AS text[]), CAST(:orgs AS text[]), CAST(:sids AS text[]),
        CAST(:contacts AS text[]), CAST(:names AS text[]), CAST(:started AS timestamptz[]),
        CAST(:lasts AS timestamptz[]), CAST(:previews AS text[]), CAST(:counts AS int[]),
        CAST(:inbound_firsts AS timestamptz[]), CAST(:inbound_lasts AS timestamptz[]),
        CAST(:inbound_firsts AS timestamptz[]), CAST(:dirty AS boolean[]), CAST(:inbound_firsts AS timestamptz[]))
    ON CONFLICT (id) DO UPDATE SET
        contact_name = COALESCE(excluded.contact_name, {C}.contact_name),
        started_at = LEAST(excluded.started_at, {C}.started_at),
        last_message_preview = CASE WHEN excluded.last_message_at >= {C}.last_message_at
            THEN excluded.last_message_preview ELSE {C}.last_message_preview END,
        last_message_at = GREATEST(excluded.last_message_at, {C}.last_message_at),
        message_count = {C}.message_count + excluded.message_count,
        -- the contact waits for a reply from their first message after the last reply on
        waiting_since = CASE WHEN excluded.last_inbound_at > COALESCE({C}.last_reply_at, '-infinity')
            THEN COALESCE({C}.waiting_since, excluded.waiting_since) ELSE {C}.waiting_since END,
        last_inbound_at = GREATEST(excluded.last_inbound_at, {C}.last_inbound_at),
        -- an SLA cycle starts at the first inbound message since the conversation was resolved
        sla_missed = CASE WHEN {C}.sla_started_at IS NULL AND excluded.sla_started_at IS NOT NULL
            THEN false ELSE {C}.sla_missed END,
        sla_started_at = COALESCE({C}.sla_started_at, excluded.sla_started_at),
        sla_dirty = {C}.sla_dirty OR excluded.sla_dirty,
        first_inbound_at = LEAST({C}.first_inbound_at, excluded.first_inbound_at)
    RETURNING id, org_id, sender_id, contact, contact_name, started_at, status, last_inbound_at""")
# An inbound message to a resolved, snoozed or archived conversation: the reopener opens it again.
TO_REOPEN = text(f"""
    INSERT INTO {SCHEMA}.conversations_to_reopen (conversation_id, org_id, at)
    SELECT * FROM unnest(CAST(:cids AS text[]), CAST(:orgs AS text[]), CAST(:ats AS timestamptz[]))
    ON CONFLICT (conversation_id) DO UPDATE SET at = GREATEST(excluded.at, {SCHEMA}.conversations_to_reopen.at)""")
REOPENED_BY_INBOUND = ("resolved", "snoozed", "archived")
TO_START = text(f"""
    INSERT INTO {SCHEMA}.conversations_to_start
        (conversation_id, org_id, sender_id, contact, contact_name, started_at)
    SELECT u.cid, u.org, u.sid, u.contact, u.name, u.at
    FROM unnest(CAST(:cids AS text[]), CAST(:orgs AS text[]), CAST(:sids AS text[]),
                CAST(:contacts AS text[]), CAST(:names AS text[]), CAST(:ats AS timestamptz[]))
         AS u(cid, org, sid, contact, name, at)
    WHERE NOT EXISTS (SELECT 1 FROM {SCHEMA}.started_conversations s WHERE s.conversation_id = u.cid)
    ON CONFLICT (conversation_id) DO NOTHING""")


@dataclass(frozen=True)
class Recorded:
    started: bool  # conversations were opened that are to be started
    reopened: bool  # conversations are to be reopened


@dataclass
class _Change:
    first: NewMessage
    last: NewMessage
    count: int = 0
    contact_name: str | None = None
    first_inbound: datetime | None = None
    last_inbound: datetime | None = None


async def record(conn: AsyncConnection, messages: list[NewMessage]) -> Recorded:
    """Count newly recorded messages into their conversations (created when new), note when the contact
    began waiting for a reply, and the conversations to start and to reopen."""
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
        if m.direction == "inbound":
            c.first_inbound = min(c.first_inbound or m.at, m.at)
            c.last_inbound = max(c.last_inbound or m.at, m.at)
    if not changes:
        return Recorded(False, False)
    rows = list(changes.items())
    upserted = list(await conn.execute(UPSERT, {
        "ids": [cid for cid, _ in rows], "orgs": [c.first.org_id for _, c in rows],
        "sids": [c.first.sender_id for _, c in rows], "contacts": [c.first.contact for _, c in rows],
        "names": [c.contact_name for _, c in rows], "started": [c.first.at for _, c in rows],
        "lasts": [c.last.at for _, c in rows], "previews": [c.last.preview for _, c in rows],
        "counts": [c.count for _, c in rows], "inbound_firsts": [c.first_inbound for _, c in rows],
        "inbound_lasts": [c.last_inbound for _, c in rows],
        "dirty": [c.last_inbound is not None for _, c in rows]}))
    inbound = {cid for cid, c in rows if c.last_inbound is not None}
    reopen = [r for r in upserted if r.id in inbound and r.status in REOPENED_BY_INBOUND]
    if reopen:
        await conn.execute(TO_REOPEN, {"cids": [r.id for r in reopen], "orgs": [r.org_id for r in reopen],
                                       "ats": [r.last_inbound_at for r in reopen]})
    # A conversation's aggregate (and its `conversation.started`) is made when it first needs an inbox
    # state: the contact's first message, here; the inbox's first change to it, in `lifecycle.py`. Only
    # outbound messages so far (a campaign's recipient who has not replied) need none.
    # It starts when its first message was (the row's), which may be an earlier outbound one.
    starting = [r for r in upserted if r.id in inbound]
    if not starting:
        return Recorded(False, bool(reopen))
    result = await conn.execute(TO_START, {
        "cids": [r.id for r in starting], "orgs": [r.org_id for r in starting],
        "sids": [r.sender_id for r in starting], "contacts": [r.contact for r in starting],
        "names": [r.contact_name for r in starting], "ats": [r.started_at for r in starting]})
    return Recorded(result.rowcount > 0, bool(reopen))



REPLIED = text(f"""
    UPDATE {C} c SET first_reply_at = COALESCE(c.first_reply_at, u.at),
        last_reply_at = GREATEST(c.last_reply_at, u.at), waiting_since = NULL, sla_dirty = true
    FROM unnest(CAST(:ids AS text[]), CAST(:ats AS timestamptz[])) AS u(id, at) WHERE c.id = u.id""")


async def replied(conn: AsyncConnection, replies: list[NewMessage]) -> None:
    """Replies from the inbox (recorded in this transaction): the contact no longer waits."""
    rows = [(m.conversation_id, m.at) for m in replies if m.conversation_id is not None]
    if rows:
        await conn.execute(REPLIED, {"ids": [r[0] for r in rows], "ats": [r[1] for r in rows]})
