"""Applies public events to the gateway's read models: one transaction and a handful of set-based
statements per batch; applying the same event twice changes nothing; the order of events never
matters (a status before its message is kept and applied when the message appears)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from switchboard_contracts import conversation, message
from switchboard_contracts.conversation import conversation_id
from switchboard_contracts.envelope import CloudEvent
from switchboard_contracts.timeline import MessageState, provider_ref
from switchboard_runtime.messaging.consumer import BadMessage, BatchOutcome, Delivery

from ..tables import SCHEMA
from . import senders

M, P, C = (f"{SCHEMA}.{t}" for t in ("messages", "pending_statuses", "conversations"))

INSERT_MESSAGES = text(f"""
    INSERT INTO {M} (id, org_id, sender_id, conversation_id, direction, from_number, to_number, type,
                     text, client_ref, provider_message_id, status, status_at, statuses, created_at)
    SELECT * FROM unnest(CAST(:ids AS text[]), CAST(:orgs AS text[]), CAST(:sids AS text[]),
        CAST(:cids AS text[]), CAST(:dirs AS text[]), CAST(:froms AS text[]), CAST(:tos AS text[]),
        CAST(:types AS text[]), CAST(:texts AS text[]), CAST(:refs AS text[]), CAST(:pmids AS text[]),
        CAST(:statuses AS text[]), CAST(:status_ats AS text[]), CAST(:timelines AS jsonb[]),
        CAST(:created AS timestamptz[]))
    ON CONFLICT (id) DO NOTHING
    RETURNING id""")
UPSERT_CONVERSATIONS = text(f"""
    INSERT INTO {C} (id, org_id, sender_id, contact, contact_name, started_at, last_message_at,
                     last_message_preview, message_count)
    SELECT * FROM unnest(CAST(:ids AS text[]), CAST(:orgs AS text[]), CAST(:sids AS text[]),
        CAST(:contacts AS text[]), CAST(:names AS text[]), CAST(:started AS timestamptz[]),
        CAST(:lasts AS timestamptz[]), CAST(:previews AS text[]), CAST(:counts AS int[]))
    ON CONFLICT (id) DO UPDATE SET
        contact_name = COALESCE(excluded.contact_name, {C}.contact_name),
        started_at = LEAST(excluded.started_at, {C}.started_at),
        last_message_preview = CASE WHEN excluded.last_message_at >= {C}.last_message_at
            AND excluded.message_count > 0 THEN excluded.last_message_preview
            ELSE {C}.last_message_preview END,
        last_message_at = CASE WHEN excluded.message_count > 0
            THEN GREATEST(excluded.last_message_at, {C}.last_message_at) ELSE {C}.last_message_at END,
        message_count = {C}.message_count + excluded.message_count""")
LOCK_MESSAGES = text(f"""
    SELECT id, sender_id, direction, status, status_at, statuses, error, provider_message_id FROM {M}
    WHERE id = ANY(CAST(:ids AS text[])) ORDER BY id FOR UPDATE""")
TAKE_PENDING = text(f"""
    DELETE FROM {P} WHERE message_id = ANY(CAST(:ids AS text[]))
    RETURNING message_id, status, at, error, provider_message_id""")
KEEP_PENDING = text(f"""
    INSERT INTO {P} (message_id, status, at, error, provider_message_id)
    SELECT u.m, u.s, u.a, CAST(u.e AS jsonb), u.p FROM unnest(CAST(:mids AS text[]),
        CAST(:statuses AS text[]), CAST(:ats AS text[]), CAST(:errors AS text[]), CAST(:pmids AS text[]))
        AS u(m, s, a, e, p)
    ON CONFLICT (message_id, status) DO NOTHING""")
RESOLVE_PROVIDER_IDS = text(f"""
    SELECT id, sender_id, provider_message_id FROM {M}
    WHERE provider_message_id = ANY(CAST(:pmids AS text[])) AND direction = 'outbound'""")
UPDATE_MESSAGES = text(f"""
    UPDATE {M} AS t SET status = u.st, status_at = u.sat, statuses = CAST(u.sts AS jsonb),
        error = CAST(u.err AS jsonb), provider_message_id = u.pmid, sender_id = COALESCE(u.sid, t.sender_id),
        updated_at = now()
    FROM unnest(CAST(:ids AS text[]), CAST(:statuses AS text[]), CAST(:status_ats AS text[]),
        CAST(:timelines AS text[]), CAST(:errors AS text[]), CAST(:pmids AS text[]), CAST(:sids AS text[]))
        AS u(mid, st, sat, sts, err, pmid, sid)
    WHERE t.id = u.mid""")


def _iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


@dataclass
class MessageRow:
    id: str
    org_id: str
    sender_id: str
    direction: str
    contact: str
    from_number: str
    to_number: str
    type: str
    text: str | None
    client_ref: str | None
    provider_message_id: str | None
    at: datetime
    contact_name: str | None = None
    conversation_id: str = ""

    def __post_init__(self) -> None:
        self.conversation_id = conversation_id(self.org_id, self.sender_id, self.contact)


@dataclass
class StatusRow:
    message_id: str | None  # None: known only by provider message id (resolved, or kept by provider_ref)
    status: str
    at: str
    error: dict | None
    provider_message_id: str | None
    sender_id: str | None = None


@dataclass
class ConversationRow:
    id: str
    org_id: str
    sender_id: str
    contact: str
    contact_name: str | None
    started_at: datetime
    last_message_at: datetime
    preview: str | None = None
    count: int = 0


class Projection:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def handle(self, deliveries: list[Delivery]) -> BatchOutcome:
        outcome = BatchOutcome()
        events: list[CloudEvent] = []
        for d in deliveries:
            try:
                events.append(d.event())
            except BadMessage as exc:
                outcome.reject(d, str(exc))
        try:
            await self.apply(events)
        except (ValidationError, ValueError, KeyError):
            # One bad event must not block the rest: apply them one by one, reject the bad ones.
            for d in deliveries:
                if any(d is r for r, _ in outcome.rejected):
                    continue
                try:
                    await self.apply([d.event()])
                except (ValidationError, ValueError, KeyError) as exc:
                    outcome.reject(d, f"event does not match its contract: {exc}")
        return outcome

    async def apply(self, events: Iterable[CloudEvent]) -> None:
        messages: dict[str, MessageRow] = {}
        statuses: list[StatusRow] = []
        conversations: dict[str, ConversationRow] = {}
        sender_events: list[CloudEvent] = []
        for ce in events:
            if ce.type == message.ACCEPTED:
                m = message.MessageAccepted.model_validate(ce.data)
                messages.setdefault(m.message_id, MessageRow(
                    m.message_id, ce.orgid, m.sender_id, "outbound", m.to, m.from_ or "", m.to, m.type, m.text,
                    m.client_ref, None, m.timestamp))
            elif ce.type == message.RECEIVED:
                m = message.MessageReceived.model_validate(ce.data)
                messages.setdefault(m.message_id, MessageRow(
                    m.message_id, ce.orgid, m.sender_id, "inbound", m.from_, m.from_, m.to, m.type,
                    m.text, None, m.provider_message_id, m.timestamp, m.contact_name))
            elif ce.type == message.STATUS:
                s = message.MessageStatus.model_validate(ce.data)
                if s.message_id is not None or s.provider_message_id:
                    statuses.append(StatusRow(s.message_id, s.status.value, _iso(s.timestamp),
                                              s.error.model_dump() if s.error else None,
                                              s.provider_message_id, s.sender_id))
            elif ce.type == conversation.STARTED:
                c = conversation.ConversationStarted.model_validate(ce.data)
                conversations.setdefault(c.conversation_id, ConversationRow(
                    c.conversation_id, ce.orgid, c.sender_id, c.contact, c.contact_name, c.started_at,
                    c.started_at))
            elif ce.type in senders.EVENTS:
                sender_events.append(ce)
            # other event types are not part of these read models
        async with self.engine.begin() as conn:
            for ce in sender_events:
                await senders.apply(conn, ce)
            inserted = await self._insert_messages(conn, list(messages.values()))
            for m in (messages[i] for i in inserted):
                row = conversations.setdefault(m.conversation_id, ConversationRow(
                    m.conversation_id, m.org_id, m.sender_id, m.contact, m.contact_name, m.at, m.at))
                if row.count == 0 or m.at >= row.last_message_at:
                    row.last_message_at, row.preview = m.at, (m.text or f"[{m.type}]")[:200]
                row.started_at = min(row.started_at, m.at)
                row.contact_name = row.contact_name or m.contact_name
                row.count += 1
            await self._upsert_conversations(conn, list(conversations.values()))
            await self._apply_statuses(conn, inserted, statuses)

    @staticmethod
    async def _insert_messages(conn: AsyncConnection, rows: list[MessageRow]) -> set[str]:
        if not rows:
            return set()
        result = await conn.execute(INSERT_MESSAGES, {
            "ids": [m.id for m in rows], "orgs": [m.org_id for m in rows],
            "sids": [m.sender_id for m in rows], "cids": [m.conversation_id for m in rows],
            "dirs": [m.direction for m in rows], "froms": [m.from_number for m in rows],
            "tos": [m.to_number for m in rows], "types": [m.type for m in rows],
            "texts": [m.text for m in rows], "refs": [m.client_ref for m in rows],
            "pmids": [m.provider_message_id for m in rows],
            "statuses": ["queued" if m.direction == "outbound" else "received" for m in rows],
            "status_ats": [_iso(m.at) for m in rows],
            "timelines": [json.dumps([{"status": "queued" if m.direction == "outbound" else "received",
                                       "at": _iso(m.at)}]) for m in rows],
            "created": [m.at for m in rows]})
        return {r[0] for r in result}

    @staticmethod
    async def _upsert_conversations(conn: AsyncConnection, rows: list[ConversationRow]) -> None:
        if not rows:
            return
        await conn.execute(UPSERT_CONVERSATIONS, {
            "ids": [c.id for c in rows], "orgs": [c.org_id for c in rows],
            "sids": [c.sender_id for c in rows], "contacts": [c.contact for c in rows],
            "names": [c.contact_name for c in rows], "started": [c.started_at for c in rows],
            "lasts": [c.last_message_at for c in rows], "previews": [c.preview for c in rows],
            "counts": [c.count for c in rows]})

    @staticmethod
    async def _apply_statuses(conn: AsyncConnection, inserted: set[str], statuses: list[StatusRow]) -> None:
        pending: list[StatusRow] = []
        if inserted:
            taken = await conn.execute(TAKE_PENDING, {"ids": list(inserted)})
            pending = [StatusRow(r.message_id, r.status, r.at, r.error, r.provider_message_id) for r in taken]
        updates = pending + await _resolve_provider_ids(conn, statuses)
        if not updates:
            return
        current = {r.id: r for r in await conn.execute(
            LOCK_MESSAGES, {"ids": sorted({u.message_id for u in updates})})}
        states: dict[str, MessageState] = {}
        changed: set[str] = set()
        moved: dict[str, str] = {}  # a pool message announced with one sender and sent by another
        orphans: list[StatusRow] = []
        for u in updates:
            row = current.get(u.message_id)
            if row is None:
                orphans.append(u)
                continue
            if row.direction != "outbound":
                continue
            state = states.setdefault(u.message_id, MessageState(
                row.status, row.status_at, list(row.statuses), row.error, row.provider_message_id))
            if state.apply(u.status, u.at, u.error, u.provider_message_id):
                changed.add(u.message_id)
            if u.status == "sent" and u.sender_id and u.sender_id != row.sender_id:
                moved[u.message_id] = u.sender_id
                changed.add(u.message_id)
        # Statuses that arrived before we knew which message a provider id belongs to.
        learned = {provider_ref(moved.get(mid, current[mid].sender_id), states[mid].provider_message_id): mid
                   for mid in changed
                   if states[mid].provider_message_id and not current[mid].provider_message_id}
        if learned:
            for r in await conn.execute(TAKE_PENDING, {"ids": list(learned)}):
                states[learned[r.message_id]].apply(r.status, r.at, r.error, r.provider_message_id)
        if orphans:
            await conn.execute(KEEP_PENDING, {
                "mids": [u.message_id for u in orphans], "statuses": [u.status for u in orphans],
                "ats": [u.at for u in orphans],
                "errors": [json.dumps(u.error) if u.error else None for u in orphans],
                "pmids": [u.provider_message_id for u in orphans]})
        if changed:
            ids = sorted(changed)
            await conn.execute(UPDATE_MESSAGES, {
                "ids": ids, "statuses": [states[i].status for i in ids],
                "status_ats": [states[i].status_at for i in ids],
                "timelines": [json.dumps(states[i].statuses) for i in ids],
                "errors": [json.dumps(states[i].error) if states[i].error else None for i in ids],
                "pmids": [states[i].provider_message_id for i in ids], "sids": [moved.get(i) for i in ids]})


async def _resolve_provider_ids(conn: AsyncConnection, statuses: list[StatusRow]) -> list[StatusRow]:
    """Give statuses that name only a provider message id our message id; those still unknown get
    their provider_ref as the key under which they wait."""
    unknown = [s for s in statuses if s.message_id is None]
    if not unknown:
        return statuses
    rows = await conn.execute(RESOLVE_PROVIDER_IDS, {"pmids": sorted({s.provider_message_id for s in unknown})})
    known = {(r.sender_id, r.provider_message_id): r.id for r in rows}
    for s in unknown:
        s.message_id = known.get((s.sender_id, s.provider_message_id)) or provider_ref(
            s.sender_id, s.provider_message_id)
    return statuses
