"""Reads of conversations for the inbox, always scoped to one organization and seen by one reader
(`unread_count` is theirs): one conversation, the filtered list (keyset pages, by last activity or by
waiting time) and the counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_runtime.http.pagination import keyset_page

from .domain import sla
from .tables import SCHEMA

# One row per conversation with its assignee's and team's names and the reader's unread count.
VIEW = f"""
    SELECT c.*, u.name AS agent_name, t.name AS team_name, r.read_at, p.name AS sla_policy_name,
        (SELECT count(*) FROM {SCHEMA}.conversation_messages m WHERE m.conversation_id = c.id
           AND m.direction = 'inbound' AND m.created_at > COALESCE(r.read_at, '-infinity')) AS unread_count
    FROM {SCHEMA}.conversations c
    LEFT JOIN {SCHEMA}.directory_users u ON u.id = c.agent_id
    LEFT JOIN {SCHEMA}.directory_teams t ON t.id = c.team_id
    LEFT JOIN {SCHEMA}.conversation_reads r ON r.conversation_id = c.id AND r.reader_id = :reader
    LEFT JOIN {SCHEMA}.sla_policies p ON p.id = c.sla_policy_id
    WHERE c.org_id = :org"""
SEARCH = f"""c.id IN (SELECT m.conversation_id FROM {SCHEMA}.conversation_messages m
    WHERE m.org_id = :org AND to_tsvector('simple', coalesce(m.text, '')) @@ plainto_tsquery('simple', :q))"""


def shape(r) -> dict:
    """`version`: the conversation's (its aggregate's) version after its last inbox change — 0 before
    any — as the lifecycle events carry it."""
    return {"id": r.id, "sender_id": r.sender_id, "contact": r.contact, "contact_name": r.contact_name,
            "status": r.status, "assignee": {"id": r.agent_id, "name": r.agent_name} if r.agent_id else None,
            "team": {"id": r.team_id, "name": r.team_name} if r.team_id else None,
            "priority": r.priority, "tags": list(r.tags), "customer_id": r.customer_id,
            "snoozed_until": r.snoozed_until, "started_at": r.started_at, "last_message_at": r.last_message_at,
            "last_message_preview": r.last_message_preview, "message_count": r.message_count,
            "unread_count": r.unread_count, "waiting_since": r.waiting_since, "first_reply_at": r.first_reply_at,
            "last_inbound_at": r.last_inbound_at, "resolved_at": r.resolved_at, "sla": _sla(r),
            "version": r.version}


def _sla(r) -> dict | None:
    if r.sla_policy_id is None:
        return None
    d = sla.Deadlines(r.sla_first_response_due, r.sla_next_response_due, r.sla_resolution_due)
    return {"policy": {"id": r.sla_policy_id, "name": r.sla_policy_name}, "first_response_due": d.first_response,
            "next_response_due": d.next_response, "resolution_due": d.resolution,
            "status": sla.status(True, d, r.sla_missed, datetime.now(UTC))}


DUES = "LEAST(c.sla_first_response_due, c.sla_next_response_due, c.sla_resolution_due)"
SLA_FILTERS = {
    "missed": f"(c.sla_policy_id IS NOT NULL AND (c.sla_missed OR {DUES} <= now()))",
    "active": f"(c.sla_policy_id IS NOT NULL AND NOT c.sla_missed AND {DUES} > now())",
    "hit": f"(c.sla_policy_id IS NOT NULL AND NOT c.sla_missed AND {DUES} IS NULL)",
}


def _note(r) -> dict:
    return {"id": r.id, "text": r.text, "actor": {"type": r.actor_type, "id": r.actor_id}, "created_at": r.created_at}


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    assignee: str | None = None  # a user id, or "none"
    team: str | None = None
    tag: str | None = None
    priority: str | None = None
    unread: bool | None = None
    contact: str | None = None
    sender_id: str | None = None
    q: str | None = None
    sla: str | None = None  # active | hit | missed
    order: str = "last_activity"  # or "waiting"


class ConversationReads:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def one(self, org_id: str, conversation_id: str, reader: str) -> dict | None:
        async with self.engine.connect() as conn:
            r = (await conn.execute(text(VIEW + " AND c.id = :id"),
                                    {"org": org_id, "reader": reader, "id": conversation_id})).first()
        return shape(r) if r else None

    async def page(self, org_id: str, reader: str, f: Filters, cursor: str | None, limit: int) -> dict:
        where, params = [], {"org": org_id, "reader": reader}
        for column in ("status", "team", "priority", "contact", "sender_id"):
            value = getattr(f, column)
            if value is not None:
                name = "team_id" if column == "team" else column
                where.append(f"c.{name} = :{column}")
                params[column] = value
        if f.assignee == "none":
            where.append("c.agent_id IS NULL")
        elif f.assignee is not None:
            where.append("c.agent_id = :assignee")
            params["assignee"] = f.assignee
        if f.tag is not None:
            where.append("c.tags @> ARRAY[CAST(:tag AS text)]")
            params["tag"] = f.tag
        if f.unread is not None:
            op = ">" if f.unread else "<="
            where.append(f"COALESCE(c.last_inbound_at, '-infinity') {op} COALESCE(r.read_at, '-infinity')")
        if f.sla is not None:
            where.append(SLA_FILTERS[f.sla])
        if f.q:
            where.append(SEARCH)
            params["q"] = f.q
        if f.order == "waiting":
            where.append("c.waiting_since IS NOT NULL")
        sql = f"SELECT * FROM ({VIEW}{''.join(' AND ' + w for w in where)}) x WHERE true"
        if f.order == "waiting":
            return await keyset_page(self.engine, sql, "ASC", cursor, limit, "waiting_since", shape, **params)
        return await keyset_page(self.engine, sql, "DESC", cursor, limit, "last_message_at", shape, **params)

    async def notes(self, org_id: str, conversation_id: str, cursor: str | None, limit: int) -> dict:
        return await keyset_page(self.engine, f"SELECT * FROM {SCHEMA}.conversation_notes WHERE org_id = :org"
                                 " AND conversation_id = :cid", "ASC", cursor, limit, "created_at", _note,
                                 org=org_id, cid=conversation_id)

    async def counts(self, org_id: str, reader: str | None) -> dict:
        async with self.engine.connect() as conn:
            by_status = {r.status: r.n for r in await conn.execute(text(
                f"SELECT status, count(*) AS n FROM {SCHEMA}.conversations WHERE org_id = :org GROUP BY status"),
                {"org": org_id})}
            mine_unassigned = (await conn.execute(text(
                f"""SELECT count(*) FILTER (WHERE agent_id = :me AND status IN ('open', 'pending')) AS mine,
                           count(*) FILTER (WHERE agent_id IS NULL AND status = 'open') AS unassigned
                    FROM {SCHEMA}.conversations WHERE org_id = :org"""), {"org": org_id, "me": reader})).first()
        statuses = {s: by_status.get(s, 0) for s in ("open", "pending", "snoozed", "resolved", "archived")}
        return {"by_status": statuses, "mine": mine_unassigned.mine, "unassigned": mine_unassigned.unassigned}
