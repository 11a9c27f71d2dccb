"""The Conversations application (synchronous; call it through `switchboard_runtime.eventstore.call`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError

from .domain.conversation import Conversation


@dataclass(frozen=True)
class NewConversation:
    org_id: str
    sender_id: str
    contact: str
    contact_name: str | None
    started_at: datetime


class ConversationsApp(Application[UUID]):
    name = "conversations"

    def start_many(self, items: list[NewConversation]) -> list[Conversation]:
        """Start these conversations, saved together; those that exist already are skipped (the
        event store's uniqueness tells). Returns the ones started now."""
        wanted: dict[UUID, NewConversation] = {}
        for item in items:
            wanted.setdefault(Conversation.create_id(item.org_id, item.sender_id, item.contact), item)
        if not wanted:
            return []
        try:
            started = [self._new(item) for item in wanted.values()]
            self.save(*started)
            return started
        except IntegrityError:
            # Some exist already. save() has consumed the pending events of those aggregates,
            # so each is built afresh and saved alone; the ones that exist fail alone.
            started = []
            for item in wanted.values():
                conv = self._new(item)
                try:
                    self.save(conv)
                    started.append(conv)
                except IntegrityError:
                    pass
            return started

    @staticmethod
    def _new(item: NewConversation) -> Conversation:
        return Conversation(org_id=item.org_id, sender_id=item.sender_id, contact=item.contact,
                            contact_name=item.contact_name, started_at=item.started_at)
