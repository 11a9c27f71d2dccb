"""The Conversations application (synchronous; call it through `switchboard_runtime.eventstore.call`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError

from .domain.conversation import Conversation

ATTEMPTS = 5  # a change that meets another one to the same conversation is decided again on a fresh copy


@dataclass(frozen=True)
class NewConversation:
    org_id: str
    sender_id: str
    contact: str
    contact_name: str | None
    started_at: datetime


@dataclass(frozen=True)
class Changed:
    conversation: Conversation
    events: list  # the domain events the change recorded (none: it changed nothing)


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

    def change(self, item: NewConversation, decide: Callable[[Conversation], None]) -> Changed:
        """Apply `decide` to the conversation (started first if the starter has not yet) and save what
        it recorded; a concurrent change to it makes `decide` run again on a fresh copy. Domain errors
        raised by `decide` pass through, with nothing saved."""
        cid = Conversation.create_id(item.org_id, item.sender_id, item.contact)
        for attempt in range(ATTEMPTS):
            try:
                conv = self.repository.get(cid)
            except AggregateNotFoundError:
                conv = self._new(item)
            decide(conv)
            events = conv.collect_events()
            try:
                if events:
                    self.save(*events)
                return Changed(conv, events)
            except IntegrityError:
                if attempt == ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def get(self, cid: UUID) -> Conversation | None:
        try:
            return self.repository.get(cid)
        except AggregateNotFoundError:
            return None

    @staticmethod
    def _new(item: NewConversation) -> Conversation:
        return Conversation(org_id=item.org_id, sender_id=item.sender_id, contact=item.contact,
                            contact_name=item.contact_name, started_at=item.started_at)
