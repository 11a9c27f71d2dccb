"""Conversation domain events as public CloudEvents (for the relay), serialized once (one per
conversation: as many as campaign contacts)."""

from __future__ import annotations

from switchboard_contracts import conversation as contract
from switchboard_contracts.envelope import EncodedEvent, encode_envelope
from switchboard_contracts.ids import aggregate_event_id

from .domain.conversation import Conversation

SOURCE = "switchboard/conversations"


def to_cloudevent(domain_event: object) -> EncodedEvent | None:
    if not isinstance(domain_event, Conversation.Started):
        return None
    cid = str(domain_event.originator_id)
    data = contract.ConversationStarted(conversation_id=cid, sender_id=domain_event.sender_id,
                                        contact=domain_event.contact,
                                        contact_name=domain_event.contact_name,
                                        started_at=domain_event.started_at)
    return encode_envelope(id=aggregate_event_id(cid, domain_event.originator_version), source=SOURCE,
                           type=contract.STARTED, orgid=domain_event.org_id, data=data, subject=cid,
                           time=domain_event.timestamp)
