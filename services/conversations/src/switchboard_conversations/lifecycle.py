"""Changing a conversation: its read row is locked (`FOR UPDATE`) for the whole change, so the history
(which writes the same row with each message) sees either the state before or the state after — an
inbound message recorded just after a resolve finds it resolved and reopens it. The aggregate decides
and is saved, its read rows are written (`inbox_state`), and the relay publishes the events. A
conversation whose aggregate the starter has not created yet is started here from its row."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_runtime.eventstore import call
from switchboard_runtime.relay import Relay

from . import inbox_state
from .application import Changed, ConversationsApp, NewConversation
from .domain.conversation import Conversation
from .tables import SCHEMA

LOCK = text(f"""SELECT * FROM {SCHEMA}.conversations WHERE id = :id AND org_id = :org FOR UPDATE""")


class Lifecycle:
    def __init__(self, engine: AsyncEngine, app: ConversationsApp, relay: Relay | None):
        self.engine, self.app, self.relay = engine, app, relay

    async def change(self, org_id: str, conversation_id: str, decide: Callable[[Conversation], None],
                     still: Callable[[object], bool] | None = None) -> Changed | None:
        """None when the organization has no such conversation, or when `still` (a check of the locked
        read row: is the change still due?) says no; domain errors pass through."""
        async with self.engine.begin() as conn:
            row = (await conn.execute(LOCK, {"id": conversation_id, "org": org_id})).first()
            if row is None or (still is not None and not still(row)):
                return None
            item = NewConversation(row.org_id, row.sender_id, row.contact, row.contact_name, row.started_at)
            changed = await call(self.app.change, item, decide)
            await inbox_state.write(conn, changed)
        if changed.events and self.relay is not None:
            self.relay.wake()
        return changed
