"""Claims on outbound messages: a redelivered send command is recognised and never sent twice.
Every call is one set-based statement (arrays through `unnest`), whatever the batch size."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ..domain.outbound import OutboundMessage, SendResult
from ..tables import SCHEMA

CLAIM = text(f"""
    INSERT INTO {SCHEMA}.outbound_messages (message_id, org_id, sender_id, recipient, state)
    SELECT m, o, s, r, 'claimed'
    FROM unnest(CAST(:ids AS text[]), CAST(:orgs AS text[]), CAST(:senders AS text[]),
                CAST(:recipients AS text[])) AS u(m, o, s, r)
    ON CONFLICT (message_id) DO NOTHING
    RETURNING message_id""")

KNOWN = text(f"""
    SELECT message_id, sender_id, state, status, provider_message_id, error, created_at, updated_at,
           accepted_published, outcome_published
    FROM {SCHEMA}.outbound_messages WHERE message_id = ANY(CAST(:ids AS text[]))""")

# The outcome, with the sender that sent it (a pool message's chosen sender; replays and the sender's
# counts read it from done rows).
RECORD = text(f"""
    UPDATE {SCHEMA}.outbound_messages AS t
    SET state = 'done', status = u.st, provider_message_id = u.pmid, error = CAST(u.err AS jsonb),
        sender_id = coalesce(u.sid, t.sender_id), updated_at = now()
    FROM unnest(CAST(:ids AS text[]), CAST(:statuses AS text[]), CAST(:pmids AS text[]),
                CAST(:errors AS text[]), CAST(:senders AS text[])) AS u(mid, st, pmid, err, sid)
    WHERE t.message_id = u.mid""")

PUBLISHED = text(f"""
    UPDATE {SCHEMA}.outbound_messages AS t
    SET accepted_published = true, outcome_published = t.outcome_published OR u.o
    FROM unnest(CAST(:ids AS text[]), CAST(:outcomes AS boolean[])) AS u(m, o)
    WHERE t.message_id = u.m""")


class OutboundStore:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def claim(self, messages: Sequence[OutboundMessage]) -> set[str]:
        """Claim the messages; returns the ids claimed now (the others were claimed before)."""
        if not messages:
            return set()
        params = {"ids": [m.message_id for m in messages], "orgs": [m.org_id for m in messages],
                  "senders": [m.sender_id for m in messages], "recipients": [m.to for m in messages]}
        async with self.engine.begin() as conn:
            return {r[0] for r in await conn.execute(CLAIM, params)}

    async def known(self, message_ids: Sequence[str]) -> dict[str, dict]:
        """The claims of these ids (message_id → row): `state` 'done' when the outcome is recorded,
        and which of the message's events were published (acknowledged by JetStream)."""
        if not message_ids:
            return {}
        async with self.engine.connect() as conn:
            rows = await conn.execute(KNOWN, {"ids": list(message_ids)})
            return {r.message_id: dict(r._mapping) for r in rows}

    async def published(self, accepted: Sequence[str], outcomes: Sequence[str] = ()) -> None:
        """Note, after their PubAcks, that these messages' `message.accepted` (all of them) and
        outcome status (`outcomes`) are stored in the stream: a redelivery publishes them no more.
        One statement per batch."""
        ids = list(dict.fromkeys([*accepted, *outcomes]))
        if ids:
            done = set(outcomes)
            async with self.engine.begin() as conn:
                await conn.execute(PUBLISHED, {"ids": ids, "outcomes": [i in done for i in ids]})

    async def record(self, outcomes: Sequence[tuple[OutboundMessage, SendResult]]) -> None:
        if outcomes:
            async with self.engine.begin() as conn:
                await record_in(conn, outcomes)


async def record_in(conn, outcomes: Sequence[tuple[OutboundMessage, SendResult]]) -> None:
    """Record outcomes inside the caller's transaction (a provider whose send is itself a database
    write records both at once: no window in which a send is done but not known), each with the sender
    of its message as sent (a pool message's claim named a provisional sender until then)."""
    await conn.execute(RECORD, {
        "ids": [r.message_id for _, r in outcomes],
        "statuses": ["sent" if r.ok else "expired" if r.expired else "failed" for _, r in outcomes],
        "pmids": [r.provider_message_id for _, r in outcomes],
        "errors": [json.dumps(r.error.model_dump()) if r.error else None for _, r in outcomes],
        "senders": [m.sender_id for m, _ in outcomes]})
