"""Campaign events (v1): a campaign's lifecycle — `campaign.created`, `scheduled`, `started`,
`paused`, `resumed`, `cancelled`, `completed`, `failed`, `deleted` — and
`campaign.contacts_imported`. Contacts
themselves are not events (a campaign may have a million); each one's send is a `message.send`
command whose message id is `campaign_message_id(campaign, phone)`, so it is sent at most once.
Each event names who caused it (`actor`): the API's caller, or the system for what Switchboard does
itself (`scheduled_start`, `campaign_completed`, `campaign_failed`); None in events from before."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from .actor import Actor
from .envelope import event_type
from .ids import deterministic_id

ENTITY = "campaign"
CREATED = event_type(ENTITY, "created")
SCHEDULED = event_type(ENTITY, "scheduled")
STARTED = event_type(ENTITY, "started")
PAUSED = event_type(ENTITY, "paused")
RESUMED = event_type(ENTITY, "resumed")
CANCELLED = event_type(ENTITY, "cancelled")
COMPLETED = event_type(ENTITY, "completed")
FAILED = event_type(ENTITY, "failed")
CONTACTS_IMPORTED = event_type(ENTITY, "contacts_imported")
DELETED = event_type(ENTITY, "deleted")
EDITED = event_type(ENTITY, "edited")

CLIENT_REF_PREFIX = "campaign:"


def campaign_of(client_ref: str | None) -> str | None:
    """The campaign a message belongs to, from its client_ref (`campaign:<id>`)."""
    if client_ref and client_ref.startswith(CLIENT_REF_PREFIX):
        return client_ref[len(CLIENT_REF_PREFIX):]
    return None


def campaign_message_id(campaign_id: str, phone: str) -> str:
    """The message id of a campaign's send to one contact (the same however often it is tried)."""
    return deterministic_id("campaign-message", campaign_id, phone)


class CampaignCreated(BaseModel):
    campaign_id: str
    name: str
    content: dict[str, Any]  # {"text"} or {"template"} or {"media", "type"}
    senders: dict[str, Any]  # {"sender_ids": [...]} or {"label"}
    timezone: str
    window: dict[str, Any] | None = None
    delay_ms: dict[str, int] | None = None
    schedule: dict[str, Any] | None = None
    chunk: dict[str, int] | None = None  # a broadcast list's send: {"size", "pause_ms"}
    broadcast_list_id: str | None = None  # the list it was sent from, if any
    created_at: datetime
    actor: Actor | None = None


class CampaignEdited(BaseModel):
    """A draft's definition was changed: the whole definition as it is now."""

    campaign_id: str
    name: str
    content: dict[str, Any]
    senders: dict[str, Any]
    timezone: str
    window: dict[str, Any] | None = None
    delay_ms: dict[str, int] | None = None
    schedule: dict[str, Any] | None = None
    chunk: dict[str, int] | None = None
    at: datetime
    actor: Actor | None = None


class CampaignTransition(BaseModel):
    """scheduled, started, paused, resumed, cancelled, completed, failed: the new status, when, why."""

    campaign_id: str
    status: str
    reason: str | None = None
    at: datetime
    actor: Actor | None = None


class CampaignDeleted(BaseModel):
    """The campaign and its contacts were deleted (its events stay, for audit)."""

    campaign_id: str
    at: datetime
    actor: Actor | None = None


class ContactsImported(BaseModel):
    campaign_id: str
    accepted: int
    duplicates: int
    rejected: int
    total: int  # contacts in the campaign after this import
    at: datetime
    actor: Actor | None = None
