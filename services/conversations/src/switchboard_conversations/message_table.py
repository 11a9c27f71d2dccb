"""Recording messages in `conversation_messages`: new ones inserted (a repeat changes nothing), and an
outbound message recorded before its sender was known (a pool send through the API) given the sender
and number its `message.accepted` names."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard_contracts.timeline import MessageState

from .first_statuses import initial_state
from .records import NewMessage
from .tables import SCHEMA, jsonb

T = f"{SCHEMA}.conversation_messages"

INSERT = text(f"""
    INSERT INTO {T} (message_id, org_id, conversation_id, sender_id, contact, direction, type, text,
                     client_ref, provider_message_id, status, status_at, statuses, created_at,
                     from_number, to_number, agent_id)
    SELECT u.mid, u.org, u.cid, u.sid, u.contact, u.dir, u.typ, u.txt, u.ref, u.pmid, u.st, u.sat,
           CAST(u.sts AS jsonb), u.cat, u.frm, u.tom, u.agent
    FROM unnest(CAST(:mids AS text[]), CAST(:orgs AS text[]), CAST(:cids AS text[]),
                CAST(:sids AS text[]), CAST(:contacts AS text[]), CAST(:dirs AS text[]),
                CAST(:types AS text[]), CAST(:texts AS text[]), CAST(:refs AS text[]),
                CAST(:pmids AS text[]), CAST(:statuses AS text[]), CAST(:status_ats AS text[]),
                CAST(:timelines AS text[]), CAST(:created AS timestamptz[]), CAST(:froms AS text[]),
                CAST(:tos AS text[]), CAST(:agents AS text[]))
         AS u(mid, org, cid, sid, contact, dir, typ, txt, ref, pmid, st, sat, sts, cat, frm, tom, agent)
    ON CONFLICT (message_id) DO NOTHING
    RETURNING message_id""")
# Outbound rows that lack what an accepted event tells: the sender (then the conversation) and its number.
ATTACH = text(f"""
    WITH u AS (SELECT * FROM unnest(CAST(:mids AS text[]), CAST(:sids AS text[]), CAST(:cids AS text[]),
                                    CAST(:froms AS text[])) AS u(mid, sid, cid, frm)),
    before AS (
        SELECT t.message_id, t.sender_id IS NULL AS unattached FROM {T} t JOIN u ON u.mid = t.message_id
        WHERE t.direction = 'outbound' AND (t.sender_id IS NULL OR (t.from_number IS NULL AND u.frm IS NOT NULL))
        ORDER BY t.message_id FOR UPDATE OF t)
    UPDATE {T} AS t SET sender_id = COALESCE(t.sender_id, u.sid),
        conversation_id = COALESCE(t.conversation_id, u.cid),
        from_number = COALESCE(t.from_number, u.frm), updated_at = now()
    FROM before b JOIN u ON u.mid = b.message_id
    WHERE t.message_id = b.message_id
    RETURNING t.message_id, b.unattached""")


async def insert(conn: AsyncConnection, messages: list[NewMessage],
                 states: dict[str, MessageState] | None = None) -> set[str]:
    """Insert the messages not recorded yet, each with its state in `states` (the statuses folded into
    it, `first_statuses`) or as new; returns their ids."""
    if not messages:
        return set()
    states = states or {}
    state = [states.get(m.message_id) or initial_state(m) for m in messages]
    rows = await conn.execute(INSERT, {
        "mids": [m.message_id for m in messages], "orgs": [m.org_id for m in messages],
        "cids": [m.conversation_id for m in messages], "sids": [m.sender_id for m in messages],
        "contacts": [m.contact for m in messages], "dirs": [m.direction for m in messages],
        "types": [m.type for m in messages], "texts": [m.text for m in messages],
        "refs": [m.client_ref for m in messages], "pmids": [r.provider_message_id for r in state],
        "statuses": [r.status for r in state], "status_ats": [r.status_at for r in state],
        "timelines": [jsonb(r.statuses) for r in state],
        "created": [m.at for m in messages], "froms": [m.from_number for m in messages],
        "tos": [m.to_number for m in messages], "agents": [m.agent_id for m in messages]})
    return {r[0] for r in rows}


async def attach(conn: AsyncConnection, accepted: list[NewMessage]) -> set[str]:
    """Give recorded outbound messages the sender and number their `message.accepted` names; returns
    the ids of those that had no sender (they join their conversation now)."""
    known = [m for m in accepted if m.direction == "outbound" and m.sender_id is not None]
    if not known:
        return set()
    rows = await conn.execute(ATTACH, {
        "mids": [m.message_id for m in known], "sids": [m.sender_id for m in known],
        "cids": [m.conversation_id for m in known], "froms": [m.from_number for m in known]})
    return {r.message_id for r in rows if r.unattached}
