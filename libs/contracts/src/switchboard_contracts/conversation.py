"""Conversation events: `conversation.started` (v1)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from .envelope import event_type
from .ids import deterministic_id

ENTITY = "conversation"
STARTED = event_type(ENTITY, "started")


def conversation_id(orgid: str, sender_id: str, contact: str) -> str:
    """One conversation per (sender, contact) within an organization."""
    return deterministic_id("conversation", orgid, sender_id, contact)


class ConversationStarted(BaseModel):
    conversation_id: str
    sender_id: str
    contact: str
    contact_name: str | None = None
    started_at: datetime
