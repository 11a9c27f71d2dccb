"""Statuses that come in the batch that records their message, folded into the new row before it is
written. The session-pool publishes a message's `accepted` and `sent` together, and its `delivered`
mostly follows within the same batch: the row is then inserted once with them, instead of inserted,
locked and updated (`status_merge.apply`), in the same transaction.

The same rule (`MessageState`) in the order `status_merge.apply` applies them — the statuses that
waited for the message (`pending_statuses`), then the batch's own, then those that waited under the
provider id the batch teaches it (`provider_ref`) — so the row ends as it would have. What this does
not settle goes on to `status_merge.apply` in that order: the statuses of a message if one carries an
error or is another sender's (a pool message sent by another sender than its `accepted` named), those
naming only a provider id, and every status of a message the insert finds recorded already (a repeat)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from switchboard_contracts.timeline import MessageState, provider_ref

from .records import NewMessage, StatusUpdate, iso
from .tables import SCHEMA

TAKE = text(f"""
    DELETE FROM {SCHEMA}.pending_statuses WHERE message_id = ANY(CAST(:ids AS text[]))
    RETURNING message_id, status, at, error, provider_message_id, sender_id""")


@dataclass
class Folded:
    states: dict[str, MessageState] = field(default_factory=dict)  # new outbound message → its row's state
    applied: dict[str, list[StatusUpdate]] = field(default_factory=dict)  # … and what it holds, in order
    rest: list[StatusUpdate] = field(default_factory=list)  # for status_merge.apply in any case

    def left_over(self, inserted: set[str]) -> list[StatusUpdate]:
        """What `status_merge.apply` is to apply once the insert has said which rows are new."""
        again = [u for mid, updates in self.applied.items() if mid not in inserted for u in updates]
        return again + self.rest


def initial_state(m: NewMessage) -> MessageState:
    """A new row's status and timeline, as `message_table.insert` writes it when nothing is folded in."""
    first = "queued" if m.direction == "outbound" else "received"
    return MessageState(first, iso(m.at), [{"status": first, "at": iso(m.at)}], None, m.provider_message_id)


def _foreign(m: NewMessage, u: StatusUpdate) -> bool:
    """A status another sender than the message's reports (a pool message sent by another sender)."""
    return bool(u.sender_id) and u.sender_id != m.sender_id


def _first_pmid(m: NewMessage, updates: list[StatusUpdate]) -> str | None:
    """The provider id the row learns from these statuses (None: none, or it has one)."""
    return None if m.provider_message_id else next((u.provider_message_id for u in updates
                                                    if u.provider_message_id), None)


async def fold(conn: AsyncConnection, messages: list[NewMessage], statuses: list[StatusUpdate]) -> Folded:
    """Take what waits for the batch's messages (and for the provider ids it teaches them), and fold
    every status that can be settled here into its new row's state. One statement."""
    new = {m.message_id: m for m in messages}
    own: dict[str, list[StatusUpdate]] = {mid: [] for mid in new}
    folded = Folded()
    for u in statuses:
        (own[u.message_id] if u.message_id in own else folded.rest).append(u)
    refs = {provider_ref(new[mid].sender_id, pmid): mid for mid, during in own.items()
            if new[mid].sender_id is not None and not any(_foreign(new[mid], u) for u in during)
            and (pmid := _first_pmid(new[mid], during))}
    waited: dict[str, list[StatusUpdate]] = {}
    taught: dict[str, list[StatusUpdate]] = {}
    if new:
        for r in await conn.execute(TAKE, {"ids": [*new, *refs]}):
            u = StatusUpdate(r.message_id, r.status, r.at, r.error, r.provider_message_id, r.sender_id)
            if r.message_id in new:
                waited.setdefault(r.message_id, []).append(u)
            else:
                taught.setdefault(refs[r.message_id], []).append(u)
    handed = []
    for mid, m in new.items():
        before, during, learned = waited.get(mid, []), own[mid], taught.get(mid, [])
        foldable = m.direction == "outbound" and m.sender_id is not None
        if _first_pmid(m, before + during) != _first_pmid(m, during):  # a waiting status taught another id
            handed += [_as_of(provider_ref(m.sender_id, _first_pmid(m, during)), u)
                       for u in learned]  # they wait on, as they did
            learned, foldable = [], False  # status_merge takes what waits under the id it learns
        updates = before + during + [_as_of(mid, u) for u in learned]
        if not updates:
            continue
        if not (foldable and all(u.error is None and not _foreign(m, u) for u in updates)):
            handed += updates
            continue
        state = initial_state(m)
        for u in updates:
            state.apply(u.status, u.at, u.error, u.provider_message_id)
        folded.states[mid], folded.applied[mid] = state, updates
    folded.rest = handed + folded.rest
    return folded


def _as_of(message_id: str, u: StatusUpdate) -> StatusUpdate:
    return StatusUpdate(message_id, u.status, u.at, u.error, u.provider_message_id, u.sender_id)
