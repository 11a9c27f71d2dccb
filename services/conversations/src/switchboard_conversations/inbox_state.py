"""The inbox's read rows of a change, written in the transaction that holds the conversation's row
lock (`lifecycle.py`): the conversation's lifecycle state as the aggregate now has it (guarded by its
version, so an older write never wins), the notes it added and the read marks it set."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from .application import Changed
from .domain.conversation import Conversation
from .tables import SCHEMA

STATE = text(f"""
    UPDATE {SCHEMA}.conversations SET status = :status, agent_id = :agent, team_id = :team,
        priority = :priority, tags = CAST(:tags AS text[]), customer_id = :customer,
        snoozed_until = :snoozed, resolved_at = :resolved, version = :version,
        sla_fired = CAST(:fired AS text[]), sla_missed = sla_missed OR :breached, sla_dirty = true,
        sla_started_at = CASE WHEN :status IN ('resolved', 'archived') THEN NULL ELSE sla_started_at END
    WHERE id = :id AND version < :version""")
# a resolve, for the stats: how long since the contact first wrote in this cycle, and its SLA
RESOLVED = text(f"""
    INSERT INTO {SCHEMA}.conversation_resolutions (conversation_id, org_id, resolved_at, seconds, sla_policy_id,
                                                   sla_missed)
    SELECT id, org_id, :at, GREATEST(0, EXTRACT(EPOCH FROM CAST(:at AS timestamptz)
                                                 - COALESCE(sla_started_at, first_inbound_at, started_at))),
           sla_policy_id, sla_missed OR :breached
    FROM {SCHEMA}.conversations WHERE id = :id
    ON CONFLICT (conversation_id, resolved_at) DO NOTHING""")
NOTE = text(f"""
    INSERT INTO {SCHEMA}.conversation_notes (id, org_id, conversation_id, text, actor_type, actor_id, created_at)
    VALUES (:id, :org, :cid, :text, :atype, :aid, :at) ON CONFLICT (id) DO NOTHING""")
READ = text(f"""
    INSERT INTO {SCHEMA}.conversation_reads (conversation_id, reader_id, read_at) VALUES (:cid, :reader, :at)
    ON CONFLICT (conversation_id, reader_id) DO UPDATE
    SET read_at = GREATEST(excluded.read_at, {SCHEMA}.conversation_reads.read_at)""")


async def write(conn: AsyncConnection, changed: Changed) -> None:
    c = changed.conversation
    cid = str(c.id)
    if not changed.events:
        return
    breached = any(isinstance(e, Conversation.SlaBreached) for e in changed.events)
    for e in changed.events:  # before the state, which starts a new SLA cycle
        if isinstance(e, Conversation.StatusChanged) and e.status == "resolved":
            await conn.execute(RESOLVED, {"id": cid, "at": e.at, "breached": breached})
    await conn.execute(STATE, {"id": cid, "status": c.status, "agent": c.agent_id, "team": c.team_id,
                               "priority": c.priority, "tags": list(c.tags), "customer": c.customer_id,
                               "snoozed": c.snoozed_until, "resolved": c.resolved_at, "version": c.version,
                               "fired": list(c.sla_fired),
                               "breached": breached})
    for e in changed.events:
        if isinstance(e, Conversation.NoteAdded):
            await conn.execute(NOTE, {"id": e.note_id, "org": c.org_id, "cid": cid, "text": e.text,
                                      "atype": e.actor["type"], "aid": e.actor["id"], "at": e.at})
        elif isinstance(e, Conversation.Read):
            await conn.execute(READ, {"cid": cid, "reader": e.actor["id"], "at": e.up_to})
