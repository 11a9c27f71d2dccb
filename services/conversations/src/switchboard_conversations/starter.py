"""Starting conversations. The history records, in the same transaction as a contact's first message
to a conversation, that the conversation is to be started (`conversations_to_start`, an outbox; outbound
messages alone start none, `conversation_table.py`); this task
starts those Conversation aggregates in batches (their relay publishes `conversation.started`) and
then clears them. Opening thousands of conversations never holds up the history, and a crash
anywhere only makes the next pass try again, which the event store's uniqueness makes harmless."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_runtime.background import Drain
from switchboard_runtime.eventstore import call
from switchboard_runtime.relay import Relay

from .application import ConversationsApp, NewConversation
from .tables import SCHEMA

TAKE = text(f"""SELECT conversation_id, org_id, sender_id, contact, contact_name, started_at
                FROM {SCHEMA}.conversations_to_start ORDER BY started_at LIMIT :n""")
DONE = text(f"""
    WITH gone AS (DELETE FROM {SCHEMA}.conversations_to_start
                  WHERE conversation_id = ANY(CAST(:ids AS text[])) RETURNING conversation_id)
    INSERT INTO {SCHEMA}.started_conversations (conversation_id)
    SELECT conversation_id FROM gone ON CONFLICT DO NOTHING""")


class Starter:
    def __init__(self, engine: AsyncEngine, app: ConversationsApp, relay: Relay, batch: int = 2000,
                 poll_interval: float = 1.0):
        self.engine, self.app, self.relay, self.batch = engine, app, relay, batch
        self.task = Drain("conversation-starter", self.start_pending, poll_interval)
        self.wake, self.start, self.stop = self.task.wake, self.task.start, self.task.stop

    async def start_pending(self) -> int:
        """Start every conversation waiting to be started; returns how many were taken."""
        taken = 0
        while True:
            async with self.engine.connect() as conn:
                rows = list(await conn.execute(TAKE, {"n": self.batch}))
            if not rows:
                return taken
            await call(self.app.start_many, [NewConversation(r.org_id, r.sender_id, r.contact,
                                                             r.contact_name, r.started_at) for r in rows])
            self.relay.wake()
            async with self.engine.begin() as conn:
                await conn.execute(DONE, {"ids": [r.conversation_id for r in rows]})
            taken += len(rows)
