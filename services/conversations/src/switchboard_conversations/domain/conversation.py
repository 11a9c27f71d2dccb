"""The Conversation aggregate: one per (sender, contact) in an organization. Its state stays bounded;
the message history lives in the service's history tables."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from switchboard_contracts.conversation import conversation_id


class Conversation(Aggregate):
    @staticmethod
    def create_id(org_id: str, sender_id: str, contact: str) -> UUID:
        return UUID(conversation_id(org_id, sender_id, contact))

    @event("Started")
    def __init__(self, org_id: str, sender_id: str, contact: str, contact_name: str | None,
                 started_at: datetime):
        self.org_id = org_id
        self.sender_id = sender_id
        self.contact = contact
        self.contact_name = contact_name
        self.started_at = started_at
