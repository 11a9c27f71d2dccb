"""The public events the session-pool publishes about outbound messages (four per message: each is
serialized once, straight from its contract model, without a `CloudEvent` object in between), and
the outcome commands of messages whose command asked for them (`outcome_to`)."""

from __future__ import annotations

from datetime import UTC, datetime

from switchboard_contracts import message as contract
from switchboard_contracts.envelope import EncodedEvent, command_type, encode_envelope

from .domain.outbound import OutboundMessage

SOURCE = "switchboard/session-pool"


def accepted_event(m: OutboundMessage, at: datetime) -> EncodedEvent:
    data = contract.MessageAccepted(message_id=m.message_id, sender_id=m.sender_id,
                                    from_=m.sender_phone or None, to=m.to, type=m.type,
                                    text=m.text, client_ref=m.client_ref, timestamp=at)
    return encode_envelope(id=contract.accepted_event_id(m.message_id), source=SOURCE,
                           type=contract.ACCEPTED, orgid=m.org_id, data=data, subject=m.message_id,
                           correlationid=m.correlationid, causationid=m.causationid,
                           traceparent=m.traceparent, time=at)


def status_event(m: OutboundMessage, status: contract.Status, at: datetime | None = None, *,
                 provider_message_id: str | None = None,
                 error: contract.StatusError | None = None, kind: str = contract.STATUS) -> EncodedEvent:
    at = at or datetime.now(UTC)
    data = contract.MessageStatus(message_id=m.message_id, provider_message_id=provider_message_id,
                                  sender_id=m.sender_id, recipient=m.to, status=status, timestamp=at,
                                  error=error, client_ref=m.client_ref)
    return encode_envelope(id=contract.status_event_id(m.message_id, status.value),
                           source=SOURCE, type=kind, orgid=m.org_id, data=data,
                           subject=m.message_id, correlationid=m.correlationid,
                           causationid=m.causationid, traceparent=m.traceparent, time=at)


def outcome_events(m: OutboundMessage, status: contract.Status, at: datetime | None = None, *,
                   provider_message_id: str | None = None,
                   error: contract.StatusError | None = None) -> list[EncodedEvent]:
    """A message's outcome (`sent`, `failed`, `expired`): its `message.status`, and the same document
    as the command its `outcome_to` names (same id: each is stored once in its own stream)."""
    at = at or datetime.now(UTC)
    kinds = [contract.STATUS] + ([command_type(*m.outcome_to.split("."))] if m.outcome_to else [])
    return [status_event(m, status, at, provider_message_id=provider_message_id, error=error, kind=kind)
            for kind in kinds]
