"""Conversation domain events as public CloudEvents (for the relay). `conversation.started` is
serialized once per conversation (as many as campaign contacts); the lifecycle events each carry the
conversation's version and the actor."""

from __future__ import annotations

from pydantic import BaseModel

from switchboard_contracts import conversation as contract
from switchboard_contracts.envelope import EncodedEvent, encode_envelope
from switchboard_contracts.ids import aggregate_event_id

from .domain.conversation import Conversation
from .domain.template import MessageTemplate
from .template_events import template_cloudevent

SOURCE = "switchboard/conversations"

C = Conversation
# domain event class → (public type, data model, the domain event's attributes the model takes)
LIFECYCLE: dict[type, tuple[str, type[BaseModel], tuple[str, ...]]] = {
    C.Assigned: (contract.ASSIGNED, contract.Assigned,
                 ("agent_id", "team_id", "previous_agent_id", "previous_team_id", "execution_id")),
    C.Unassigned: (contract.UNASSIGNED, contract.Unassigned, ("previous_agent_id", "previous_team_id")),
    C.StatusChanged: (contract.STATUS_CHANGED, contract.StatusChanged, ("status", "previous_status", "reason")),
    C.Snoozed: (contract.SNOOZED, contract.Snoozed, ("until", "previous_status")),
    C.Archived: (contract.ARCHIVED, contract.ArchivedEvent, ("reason",)),
    C.PriorityChanged: (contract.PRIORITY_CHANGED, contract.PriorityChanged,
                        ("priority", "previous_priority", "reason")),
    C.Tagged: (contract.TAGGED, contract.Tagged, ("tags", "all_tags")),
    C.Untagged: (contract.UNTAGGED, contract.Tagged, ("tags", "all_tags")),
    C.NoteAdded: (contract.NOTE_ADDED, contract.NoteAdded, ("note_id", "text")),
    C.Read: (contract.READ, contract.Read, ("up_to",)),
    C.SlaWarning: (contract.SLA_WARNING, contract.SlaEvent, ("policy_id", "target", "due_at")),
    C.SlaBreached: (contract.SLA_BREACHED, contract.SlaEvent, ("policy_id", "target", "due_at")),
    C.CustomerLinked: (contract.CUSTOMER_LINKED, contract.CustomerLinked, ("customer_id",)),
}


def to_cloudevent(domain_event: object) -> EncodedEvent | None:
    if isinstance(domain_event, MessageTemplate.Event):
        return template_cloudevent(domain_event)
    cid = str(domain_event.originator_id)
    if isinstance(domain_event, Conversation.Started):
        data = contract.ConversationStarted(conversation_id=cid, sender_id=domain_event.sender_id,
                                            contact=domain_event.contact,
                                            contact_name=domain_event.contact_name,
                                            started_at=domain_event.started_at)
        return encode_envelope(id=aggregate_event_id(cid, domain_event.originator_version), source=SOURCE,
                               type=contract.STARTED, orgid=domain_event.org_id, data=data, subject=cid,
                               time=domain_event.timestamp)
    mapped = LIFECYCLE.get(type(domain_event))
    if mapped is None:
        return None
    type_, model, fields = mapped
    data = model(conversation_id=cid, version=domain_event.originator_version, at=domain_event.at,
                 actor=domain_event.actor, **{f: getattr(domain_event, f) for f in fields})
    return encode_envelope(id=aggregate_event_id(cid, domain_event.originator_version), source=SOURCE,
                           type=type_, orgid=domain_event.org_id, data=data, subject=cid,
                           time=domain_event.timestamp)
