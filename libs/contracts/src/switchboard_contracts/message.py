"""Message events: `message.received`, `message.accepted`, `message.status` (all v1)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from . import status_rule
from .envelope import event_type

ENTITY = "message"
RECEIVED = event_type(ENTITY, "received")
ACCEPTED = event_type(ENTITY, "accepted")
STATUS = event_type(ENTITY, "status")


def accepted_event_id(message_id: str) -> str:
    """CloudEvents id of `message.accepted` (deterministic: one per message)."""
    return f"{message_id}:accepted"


def status_event_id(message_id: str, status: str) -> str:
    """CloudEvents id of `message.status` for a message we sent: one per (message, status)."""
    return f"{message_id}:status:{status}"


def received_event_id(sender_id: str, provider_message_id: str) -> str:
    """CloudEvents id of `message.received`: one per provider message id and sender."""
    return f"{sender_id}:{provider_message_id}:received"


def provider_status_event_id(sender_id: str, provider_message_id: str, status: str) -> str:
    """CloudEvents id of a `message.status` reported by a provider webhook: one per (provider message
    id, status) and sender."""
    return f"{sender_id}:{provider_message_id}:status:{status}"


class MediaRef(BaseModel):
    """A reference to provider-hosted media; the bytes are never inside an event."""

    id: str | None = None
    url: str | None = None
    mime_type: str | None = None
    sha256: str | None = None
    filename: str | None = None
    caption: str | None = None


class MessageContext(BaseModel):
    """The message this one replies to."""

    provider_message_id: str | None = None
    message_id: str | None = None
    from_: str | None = Field(default=None, alias="from")

    model_config = ConfigDict(populate_by_name=True)


class MessageReceived(BaseModel):
    """An inbound message from a contact to one of our senders."""

    model_config = ConfigDict(populate_by_name=True)

    message_id: str
    provider_message_id: str
    sender_id: str
    from_: str = Field(alias="from")
    to: str
    timestamp: datetime
    type: str
    text: str | None = None
    media: MediaRef | None = None
    context: MessageContext | None = None
    contact_name: str | None = None
    # The type-specific body as the provider sent it (location, contacts, interactive reply,
    # reaction, order, system...), for consumers that need more than `text`.
    content: dict[str, Any] | None = None
    from_user_id: str | None = None  # Meta's business-scoped user id (BSUID), when sent


class MessageAccepted(BaseModel):
    """An outbound message the session-pool accepted for sending (its content)."""

    model_config = ConfigDict(populate_by_name=True)

    message_id: str
    sender_id: str
    from_: str | None = Field(default=None, alias="from")  # the sender's number
    to: str
    type: str = "text"
    text: str | None = None
    client_ref: str | None = None
    timestamp: datetime


class Status(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    PLAYED = "played"
    FAILED = "failed"
    EXPIRED = "expired"


# Statuses only move forward along this order (the rule itself: `status_rule`).
STATUS_RANK: dict[Status, int] = {s: status_rule.RANK[s.value] for s in Status}


def advances(current: str | None, new: str) -> bool:
    """True when `new` moves a message past `current` (see `status_rule.advances`)."""
    return status_rule.advances(current, new)


class StatusError(BaseModel):
    code: int | str
    title: str
    detail: str | None = None


class MessageStatus(BaseModel):
    """A delivery status of an outbound message."""

    message_id: str | None
    provider_message_id: str | None = None
    sender_id: str
    recipient: str
    status: Status
    timestamp: datetime
    error: StatusError | None = None
    client_ref: str | None = None
    conversation: dict[str, Any] | None = None  # Meta: id, origin, expiration_timestamp
    pricing: dict[str, Any] | None = None  # Meta: billable, pricing_model, category
    recipient_user_id: str | None = None  # Meta's BSUID of the recipient, when sent
