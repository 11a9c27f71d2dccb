"""Starting conversations: the first message between a sender and a contact starts a Conversation
aggregate (its relay publishes `conversation.started`). A consumer of its own, beside the history,
so opening thousands of conversations never holds up the message history."""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_contracts import message
from switchboard_contracts.conversation import conversation_id
from switchboard_runtime.eventstore import call
from switchboard_runtime.messaging.consumer import BadMessage, BatchOutcome, Delivery
from switchboard_runtime.relay import Relay

from .application import ConversationsApp, NewConversation
from .tables import SCHEMA

KNOWN = text(f"SELECT conversation_id FROM {SCHEMA}.started_conversations "
             "WHERE conversation_id = ANY(CAST(:ids AS text[]))")
REMEMBER = text(f"INSERT INTO {SCHEMA}.started_conversations (conversation_id) "
                "SELECT unnest(CAST(:ids AS text[])) ON CONFLICT DO NOTHING")


class Starter:
    def __init__(self, engine: AsyncEngine, app: ConversationsApp, relay: Relay):
        self.engine, self.app, self.relay = engine, app, relay

    async def handle(self, deliveries: list[Delivery]) -> BatchOutcome:
        outcome = BatchOutcome()
        wanted: dict[str, NewConversation] = {}
        for d in deliveries:
            try:
                ce = d.event()
                if ce.type == message.RECEIVED:
                    m = message.MessageReceived.model_validate(ce.data)
                    item = NewConversation(ce.orgid, m.sender_id, m.from_, m.contact_name, m.timestamp)
                elif ce.type == message.ACCEPTED:
                    m = message.MessageAccepted.model_validate(ce.data)
                    item = NewConversation(ce.orgid, m.sender_id, m.to, None, m.timestamp)
                else:
                    continue  # statuses open no conversation (the history consumer judges them)
            except (BadMessage, ValidationError):
                continue  # the history consumer dead-letters what is not a valid event
            wanted.setdefault(conversation_id(item.org_id, item.sender_id, item.contact), item)
        if not wanted:
            return outcome
        async with self.engine.connect() as conn:
            known = {r[0] for r in await conn.execute(KNOWN, {"ids": list(wanted)})}
        new = [item for cid, item in wanted.items() if cid not in known]
        if new:
            # Start first, remember after: a crash in between only makes the redelivery try again,
            # which the event store's uniqueness turns into nothing.
            await call(self.app.start_many, new)
            self.relay.wake()
            async with self.engine.begin() as conn:
                await conn.execute(REMEMBER, {"ids": [cid for cid in wanted if cid not in known]})
        return outcome
