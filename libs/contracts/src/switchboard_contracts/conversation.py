"""Conversation events (v1): `conversation.started`, and the inbox lifecycle — `assigned`,
`unassigned`, `status_changed`, `snoozed`, `priority_changed`, `tagged`, `untagged`, `note_added`,
`read`, `customer_linked`, `sla_warning`, `sla_breached`, `archived`. Each lifecycle event names its
`actor` (a user, an API key, a flow, or the system: a timer or an inbound message) and the
conversation's `version` after it (the aggregate's, so a subscriber can order and dedupe them)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from .actor import Actor
from .envelope import event_type
from .ids import deterministic_id

ENTITY = "conversation"
STARTED = event_type(ENTITY, "started")
ASSIGNED = event_type(ENTITY, "assigned")
UNASSIGNED = event_type(ENTITY, "unassigned")
STATUS_CHANGED = event_type(ENTITY, "status_changed")
SNOOZED = event_type(ENTITY, "snoozed")
PRIORITY_CHANGED = event_type(ENTITY, "priority_changed")
TAGGED = event_type(ENTITY, "tagged")
UNTAGGED = event_type(ENTITY, "untagged")
NOTE_ADDED = event_type(ENTITY, "note_added")
READ = event_type(ENTITY, "read")
CUSTOMER_LINKED = event_type(ENTITY, "customer_linked")
SLA_WARNING = event_type(ENTITY, "sla_warning")
SLA_BREACHED = event_type(ENTITY, "sla_breached")
ARCHIVED = event_type(ENTITY, "archived")
LIFECYCLE = ("assigned", "unassigned", "status_changed", "snoozed", "priority_changed", "tagged", "untagged",
             "note_added", "read", "customer_linked", "sla_warning", "sla_breached", "archived")

Status = Literal["open", "pending", "snoozed", "resolved", "archived"]
Priority = Literal["none", "low", "medium", "high", "urgent"]
PRIORITIES: tuple[str, ...] = ("none", "low", "medium", "high", "urgent")  # in rising order
SlaTarget = Literal["first_response", "next_response", "resolution"]


def conversation_id(orgid: str, sender_id: str, contact: str) -> str:
    """One conversation per (sender, contact) within an organization."""
    return deterministic_id("conversation", orgid, sender_id, contact)


class ConversationStarted(BaseModel):
    """A conversation's inbox state begins: at the contact's first message, or at the inbox's first change
    to it (an assignment, say), whichever comes first; `started_at` is when its first message was (an
    earlier outbound one, perhaps). Outbound messages alone (a campaign's recipient who never replied)
    start none: they are in the history and `message.*`."""

    conversation_id: str
    sender_id: str
    contact: str
    contact_name: str | None = None
    started_at: datetime


class ConversationChange(BaseModel):
    """What every lifecycle event carries."""

    conversation_id: str
    version: int  # the conversation's version after this change
    at: datetime
    actor: Actor


class Assigned(ConversationChange):
    """The conversation's assignee (a user) and/or team as they are now (one may be null)."""

    agent_id: str | None = None
    team_id: str | None = None
    previous_agent_id: str | None = None
    previous_team_id: str | None = None
    execution_id: str | None = None  # a flow's handoff: the execution that asked for it


class Unassigned(ConversationChange):
    previous_agent_id: str | None = None
    previous_team_id: str | None = None


class StatusChanged(ConversationChange):
    status: Status
    previous_status: Status
    reason: str | None = None  # e.g. inbound_message, reply, snooze_ended, auto_resolve, handoff


class Snoozed(ConversationChange):
    """Status `snoozed` until a time, or (`until` null) until the contact's next message."""

    until: datetime | None = None
    previous_status: Status


class PriorityChanged(ConversationChange):
    priority: Priority
    previous_priority: Priority
    reason: str | None = None  # e.g. sla_escalation


class Tagged(ConversationChange):
    tags: list[str]  # the tags added (tagged) or removed (untagged) by this change
    all_tags: list[str]  # every tag the conversation has now


class NoteAdded(ConversationChange):
    """A private note (never sent to the contact)."""

    note_id: str
    text: str


class Read(ConversationChange):
    """A reader (a user or key, `actor`) has read the conversation up to `up_to`."""

    up_to: datetime


class CustomerLinked(ConversationChange):
    customer_id: str  # the ERP's customer id


class SlaEvent(ConversationChange):
    """An SLA target's warning time (sla_warning) or due time (sla_breached) passed unmet."""

    policy_id: str
    target: SlaTarget
    due_at: datetime


class ArchivedEvent(ConversationChange):
    reason: str | None = None  # e.g. auto_archive (resolved for SWITCHBOARD_ARCHIVE_AFTER_DAYS)
