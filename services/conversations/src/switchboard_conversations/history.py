"""The message history: applies message events to the history tables, one transaction and a
handful of set-based statements per batch; a repeat of any event changes nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_contracts import message
from switchboard_contracts.conversation import conversation_id
from switchboard_runtime.messaging.consumer import BadMessage, BatchOutcome, Delivery
from switchboard_contracts.timeline import MessageState, provider_ref
from .tables import SCHEMA

T = f"{SCHEMA}.conversation_messages"
P = f"{SCHEMA}.pending_statuses"

INSERT_MESSAGES = text(f"""
    INSERT INTO {T} (message_id, org_id, conversation_id, sender_id, contact, direction, type, text,
                     client_ref, provider_message_id, status, status_at, statuses, created_at)
    SELECT u.mid, u.org, u.cid, u.sid, u.contact, u.dir, u.typ, u.txt, u.ref, u.pmid, u.st, u.sat,
           CAST(u.sts AS jsonb), u.cat
    FROM unnest(CAST(:mids AS text[]), CAST(:orgs AS text[]), CAST(:cids AS text[]),
                CAST(:sids AS text[]), CAST(:contacts AS text[]), CAST(:dirs AS text[]),
                CAST(:types AS text[]), CAST(:texts AS text[]), CAST(:refs AS text[]),
                CAST(:pmids AS text[]), CAST(:statuses AS text[]), CAST(:status_ats AS text[]),
                CAST(:timelines AS text[]), CAST(:created AS timestamptz[]))
         AS u(mid, org, cid, sid, contact, dir, typ, txt, ref, pmid, st, sat, sts, cat)
    ON CONFLICT (message_id) DO NOTHING
    RETURNING message_id""")
TO_START = text(f"""
    INSERT INTO {SCHEMA}.conversations_to_start
        (conversation_id, org_id, sender_id, contact, contact_name, started_at)
    SELECT u.cid, u.org, u.sid, u.contact, u.name, u.at
    FROM unnest(CAST(:cids AS text[]), CAST(:orgs AS text[]), CAST(:sids AS text[]),
                CAST(:contacts AS text[]), CAST(:names AS text[]), CAST(:ats AS timestamptz[]))
         AS u(cid, org, sid, contact, name, at)
    WHERE NOT EXISTS (SELECT 1 FROM {SCHEMA}.started_conversations s WHERE s.conversation_id = u.cid)
    ON CONFLICT (conversation_id) DO NOTHING""")
LOCK_MESSAGES = text(f"""
    SELECT message_id, sender_id, direction, status, status_at, statuses, error, provider_message_id
    FROM {T} WHERE message_id = ANY(CAST(:ids AS text[])) ORDER BY message_id FOR UPDATE""")
TAKE_PENDING = text(f"""
    DELETE FROM {P} WHERE message_id = ANY(CAST(:ids AS text[]))
    RETURNING message_id, status, at, error, provider_message_id""")
KEEP_PENDING = text(f"""
    INSERT INTO {P} (message_id, status, at, error, provider_message_id)
    SELECT u.mid, u.st, u.at, CAST(u.err AS jsonb), u.pmid
    FROM unnest(CAST(:mids AS text[]), CAST(:statuses AS text[]), CAST(:ats AS text[]),
                CAST(:errors AS text[]), CAST(:pmids AS text[])) AS u(mid, st, at, err, pmid)
    ON CONFLICT (message_id, status) DO NOTHING""")
RESOLVE_PROVIDER_IDS = text(f"""
    SELECT message_id, sender_id, provider_message_id FROM {T}
    WHERE provider_message_id = ANY(CAST(:pmids AS text[])) AND direction = 'outbound'""")
UPDATE_MESSAGES = text(f"""
    UPDATE {T} AS t SET status = u.st, status_at = u.sat, statuses = CAST(u.sts AS jsonb),
        error = CAST(u.err AS jsonb), provider_message_id = u.pmid, updated_at = now()
    FROM unnest(CAST(:mids AS text[]), CAST(:statuses AS text[]), CAST(:status_ats AS text[]),
                CAST(:timelines AS text[]), CAST(:errors AS text[]), CAST(:pmids AS text[]))
         AS u(mid, st, sat, sts, err, pmid)
    WHERE t.message_id = u.mid""")


@dataclass
class NewMessage:
    message_id: str
    org_id: str
    sender_id: str
    contact: str
    direction: str
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
class StatusUpdate:
    message_id: str | None  # None: known only by provider message id (resolved, or kept by provider_ref)
    status: str
    at: str
    error: dict | None
    provider_message_id: str | None
    sender_id: str | None = None


def _iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


class History:
    def __init__(self, engine: AsyncEngine, on_new_conversations=None):
        self.engine = engine
        self.on_new_conversations = on_new_conversations  # wakes the starter after a commit

    async def handle(self, deliveries: list[Delivery]) -> BatchOutcome:
        outcome = BatchOutcome()
        messages: dict[str, NewMessage] = {}
        statuses: list[StatusUpdate] = []
        for d in deliveries:
            try:
                self._collect(d, messages, statuses)
            except (BadMessage, ValidationError, ValueError) as exc:
                outcome.reject(d, f"not a message event this service understands: {exc}")
        if messages or statuses:
            async with self.engine.begin() as conn:
                opened = await self._apply(conn, list(messages.values()), statuses)
            if opened and self.on_new_conversations:
                self.on_new_conversations()
        return outcome

    @staticmethod
    def _collect(d: Delivery, messages: dict[str, NewMessage], statuses: list[StatusUpdate]) -> None:
        ce = d.event()
        if ce.type == message.RECEIVED:
            m = message.MessageReceived.model_validate(ce.data)
            messages.setdefault(m.message_id, NewMessage(
                m.message_id, ce.orgid, m.sender_id, m.from_, "inbound", m.type, m.text, None,
                m.provider_message_id, m.timestamp, m.contact_name))
        elif ce.type == message.ACCEPTED:
            m = message.MessageAccepted.model_validate(ce.data)
            messages.setdefault(m.message_id, NewMessage(
                m.message_id, ce.orgid, m.sender_id, m.to, "outbound", m.type, m.text, m.client_ref,
                None, m.timestamp))
        elif ce.type == message.STATUS:
            s = message.MessageStatus.model_validate(ce.data)
            if s.message_id is not None or s.provider_message_id:
                statuses.append(StatusUpdate(s.message_id, s.status.value, _iso(s.timestamp),
                                             s.error.model_dump() if s.error else None,
                                             s.provider_message_id, s.sender_id))
        else:
            raise ValueError(f"unexpected event type {ce.type!r}")

    @staticmethod
    async def _conversations_to_start(messages: list[NewMessage], conn) -> bool:
        """Record, with the messages, which conversations they open (for the starter)."""
        first: dict[str, NewMessage] = {}
        for m in messages:
            if m.conversation_id not in first or m.at < first[m.conversation_id].at:
                first[m.conversation_id] = m
        if not first:
            return False
        rows = list(first.values())
        result = await conn.execute(TO_START, {
            "cids": [m.conversation_id for m in rows], "orgs": [m.org_id for m in rows],
            "sids": [m.sender_id for m in rows], "contacts": [m.contact for m in rows],
            "names": [m.contact_name for m in rows], "ats": [m.at for m in rows]})
        return result.rowcount > 0

    async def _apply(self, conn, messages: list[NewMessage], statuses: list[StatusUpdate]) -> bool:
        """Apply the batch; returns whether it opened conversations that are to be started."""
        inserted: set[str] = set()
        if messages:
            rows = await conn.execute(INSERT_MESSAGES, {
                "mids": [m.message_id for m in messages], "orgs": [m.org_id for m in messages],
                "cids": [m.conversation_id for m in messages], "sids": [m.sender_id for m in messages],
                "contacts": [m.contact for m in messages], "dirs": [m.direction for m in messages],
                "types": [m.type for m in messages], "texts": [m.text for m in messages],
                "refs": [m.client_ref for m in messages],
                "pmids": [m.provider_message_id for m in messages],
                "statuses": ["queued" if m.direction == "outbound" else "received" for m in messages],
                "status_ats": [_iso(m.at) for m in messages],
                "timelines": [json.dumps([{"status": "queued", "at": _iso(m.at)}])
                              if m.direction == "outbound" else "[]" for m in messages],
                "created": [m.at for m in messages],
            })
            inserted = {r[0] for r in rows}
        opened = await self._conversations_to_start(
            [m for m in messages if m.message_id in inserted], conn)
        pending: list[StatusUpdate] = []
        if inserted:
            taken = await conn.execute(TAKE_PENDING, {"ids": list(inserted)})
            pending = [StatusUpdate(r.message_id, r.status, r.at, r.error, r.provider_message_id)
                       for r in taken]
        updates = pending + await _resolve_provider_ids(conn, statuses)
        if not updates:
            return opened
        ids = sorted({u.message_id for u in updates})
        current = {r.message_id: r for r in await conn.execute(LOCK_MESSAGES, {"ids": ids})}
        states: dict[str, MessageState] = {}
        changed: set[str] = set()
        orphans: list[StatusUpdate] = []
        for u in updates:
            row = current.get(u.message_id)
            if row is None:
                orphans.append(u)  # its message has not appeared yet: keep it for then
                continue
            if row.direction != "outbound":
                continue
            state = states.setdefault(u.message_id, MessageState(
                row.status, row.status_at, list(row.statuses), row.error, row.provider_message_id))
            if state.apply(u.status, u.at, u.error, u.provider_message_id):
                changed.add(u.message_id)
        # Statuses that arrived before we knew which message a provider id belongs to.
        learned = {provider_ref(current[mid].sender_id, states[mid].provider_message_id): mid
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
            rows = [(mid, states[mid]) for mid in sorted(changed)]
            await conn.execute(UPDATE_MESSAGES, {
                "mids": [mid for mid, _ in rows], "statuses": [s.status for _, s in rows],
                "status_ats": [s.status_at for _, s in rows],
                "timelines": [json.dumps(s.statuses) for _, s in rows],
                "errors": [json.dumps(s.error) if s.error else None for _, s in rows],
                "pmids": [s.provider_message_id for _, s in rows]})
        return opened


async def _resolve_provider_ids(conn, statuses: list[StatusUpdate]) -> list[StatusUpdate]:
    """Give statuses that name only a provider message id our message id; those still unknown get
    their provider_ref as the key under which they wait."""
    unknown = [s for s in statuses if s.message_id is None]
    if not unknown:
        return statuses
    rows = await conn.execute(RESOLVE_PROVIDER_IDS, {"pmids": sorted({s.provider_message_id for s in unknown})})
    known = {(r.sender_id, r.provider_message_id): r.message_id for r in rows}
    for s in unknown:
        s.message_id = known.get((s.sender_id, s.provider_message_id)) or provider_ref(
            s.sender_id, s.provider_message_id)
    return statuses
