"""Applying statuses to recorded outbound messages by the shared status rule (`MessageState`):
forward only, each status once in the timeline. A status ahead of its message waits in
`pending_statuses` and is applied when the message appears; one that names only a provider message id
is resolved by (sender, provider id), or waits under its `provider_ref` until a `sent` teaches that id.
A pool message sent by another sender than its `accepted` named shows the sender that sent it."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard_contracts.timeline import MessageState, provider_ref

from .records import StatusUpdate
from .tables import SCHEMA, jsonb

T = f"{SCHEMA}.conversation_messages"
P = f"{SCHEMA}.pending_statuses"

LOCK = text(f"""
    SELECT message_id, sender_id, direction, status, status_at, statuses, error, provider_message_id
    FROM {T} WHERE message_id = ANY(CAST(:ids AS text[])) ORDER BY message_id FOR UPDATE""")
TAKE_PENDING = text(f"""
    DELETE FROM {P} WHERE message_id = ANY(CAST(:ids AS text[]))
    RETURNING message_id, status, at, error, provider_message_id, sender_id""")
KEEP_PENDING = text(f"""
    INSERT INTO {P} (message_id, status, at, error, provider_message_id, sender_id)
    SELECT u.mid, u.st, u.at, CAST(u.err AS jsonb), u.pmid, u.sid
    FROM unnest(CAST(:mids AS text[]), CAST(:statuses AS text[]), CAST(:ats AS text[]),
                CAST(:errors AS text[]), CAST(:pmids AS text[]), CAST(:sids AS text[]))
         AS u(mid, st, at, err, pmid, sid)
    ON CONFLICT (message_id, status) DO NOTHING""")
RESOLVE_PROVIDER_IDS = text(f"""
    SELECT message_id, sender_id, provider_message_id FROM {T}
    WHERE provider_message_id = ANY(CAST(:pmids AS text[])) AND direction = 'outbound'""")
UPDATE = text(f"""
    UPDATE {T} AS t SET status = u.st, status_at = u.sat, statuses = CAST(u.sts AS jsonb),
        error = CAST(u.err AS jsonb), provider_message_id = u.pmid,
        sender_id = COALESCE(u.sid, t.sender_id), updated_at = now()
    FROM unnest(CAST(:mids AS text[]), CAST(:statuses AS text[]), CAST(:status_ats AS text[]),
                CAST(:timelines AS text[]), CAST(:errors AS text[]), CAST(:pmids AS text[]),
                CAST(:sids AS text[]))
         AS u(mid, st, sat, sts, err, pmid, sid)
    WHERE t.message_id = u.mid""")


async def apply(conn: AsyncConnection, statuses: list[StatusUpdate]) -> None:
    """Apply `statuses` to recorded messages (those that waited for a message just inserted are among
    them: `first_statuses` took them)."""
    updates = await _resolve_provider_ids(conn, statuses)
    if not updates:
        return
    current = {r.message_id: r for r in await conn.execute(
        LOCK, {"ids": sorted({u.message_id for u in updates})})}
    states: dict[str, MessageState] = {}
    changed: set[str] = set()
    moved: dict[str, str] = {}  # a pool message announced with one sender and sent by another
    taught: dict[str, str] = {}  # the sender whose status first named the message's provider id
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
        unknown = state.provider_message_id is None
        if state.apply(u.status, u.at, u.error, u.provider_message_id):
            changed.add(u.message_id)
        if unknown and state.provider_message_id and u.sender_id:
            taught[u.message_id] = u.sender_id
        if u.status == "sent" and u.sender_id and u.sender_id != row.sender_id:
            moved[u.message_id] = u.sender_id
            changed.add(u.message_id)
    # Statuses that arrived before we knew which message a provider id belongs to: under the provider
    # id a message learnt, or already had when it turns out another sender sent it.
    learned = {provider_ref(moved.get(mid) or taught.get(mid) or current[mid].sender_id,
                            states[mid].provider_message_id): mid
               for mid in changed
               if states[mid].provider_message_id and (not current[mid].provider_message_id or mid in moved)}
    if learned:
        orphans = await _take_learned(conn, learned, states, orphans)
    if orphans:
        await conn.execute(KEEP_PENDING, {
            "mids": [u.message_id for u in orphans], "statuses": [u.status for u in orphans],
            "ats": [u.at for u in orphans],
            "errors": [jsonb(u.error) if u.error else None for u in orphans],
            "pmids": [u.provider_message_id for u in orphans], "sids": [u.sender_id for u in orphans]})
    if changed:
        ids = sorted(changed)
        await conn.execute(UPDATE, {
            "mids": ids, "statuses": [states[i].status for i in ids],
            "status_ats": [states[i].status_at for i in ids],
            "timelines": [jsonb(states[i].statuses) for i in ids],
            "errors": [jsonb(states[i].error) if states[i].error else None for i in ids],
            "pmids": [states[i].provider_message_id for i in ids], "sids": [moved.get(i) for i in ids]})


async def _take_learned(conn: AsyncConnection, learned: dict[str, str], states: dict[str, MessageState],
                        orphans: list[StatusUpdate]) -> list[StatusUpdate]:
    """Apply what waited under the provider refs messages learnt (ref → message id): kept from earlier
    batches, then those of this very batch; returns the orphans still to keep."""
    for r in await conn.execute(TAKE_PENDING, {"ids": list(learned)}):
        states[learned[r.message_id]].apply(r.status, r.at, r.error, r.provider_message_id)
    for u in orphans:
        if u.message_id in learned:
            states[learned[u.message_id]].apply(u.status, u.at, u.error, u.provider_message_id)
    return [u for u in orphans if u.message_id not in learned]


async def _resolve_provider_ids(conn: AsyncConnection, statuses: list[StatusUpdate]) -> list[StatusUpdate]:
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
