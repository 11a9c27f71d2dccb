"""The public events the session-pool publishes about outbound messages (four per message: each is
serialized once, without a `CloudEvent` object in between), and the outcome commands of messages whose
command asked for them (`outcome_to`).

The data of an `accepted` and of a status without an error, at a UTC time, is written straight to JSON
(`_accepted_json`, `_status_json`): the document its contract model's `model_dump_json` gives, byte for
byte (tests/test_status_documents.py checks it against the models). Building and dumping the model
was 3.8 of each event's 8.9 µs, four events per message; with the batch's time written once
(`envelope.rfc3339`) an event takes 3.9 µs. Anything else (an error, another time zone) goes through
the model."""

from __future__ import annotations

from datetime import UTC, datetime
from json.encoder import encode_basestring as _quote  # C; as pydantic writes strings (non-ASCII as is)

from switchboard_contracts import message as contract
from switchboard_contracts.envelope import EncodedEvent, command_type, encode_envelope, rfc3339

from .domain.outbound import OutboundMessage

SOURCE = "switchboard/session-pool"


def _opt(value: str | None) -> str:
    return "null" if value is None else _quote(value)


def _accepted_json(m: OutboundMessage, at: datetime) -> str:
    return (f'{{"message_id":{_quote(m.message_id)},"sender_id":{_quote(m.sender_id)},'
            f'"from":{_opt(m.sender_phone or None)},"to":{_quote(m.to)},"type":{_quote(m.type)},'
            f'"text":{_opt(m.text)},"client_ref":{_opt(m.client_ref)},"timestamp":"{rfc3339(at)}"}}')


def _status_json(m: OutboundMessage, status: contract.Status, at: datetime, pmid: str | None) -> str:
    return (f'{{"message_id":{_quote(m.message_id)},"provider_message_id":{_opt(pmid)},'
            f'"sender_id":{_quote(m.sender_id)},"recipient":{_quote(m.to)},"status":"{status.value}",'
            f'"timestamp":"{rfc3339(at)}","error":null,"client_ref":{_opt(m.client_ref)},'
            f'"conversation":null,"pricing":null,"recipient_user_id":null}}')


def accepted_event(m: OutboundMessage, at: datetime) -> EncodedEvent:
    data = _accepted_json(m, at) if at.tzinfo is UTC else contract.MessageAccepted(
        message_id=m.message_id, sender_id=m.sender_id, from_=m.sender_phone or None, to=m.to, type=m.type,
        text=m.text, client_ref=m.client_ref, timestamp=at)
    return encode_envelope(id=contract.accepted_event_id(m.message_id), source=SOURCE,
                           type=contract.ACCEPTED, orgid=m.org_id, data=data, subject=m.message_id,
                           correlationid=m.correlationid, causationid=m.causationid,
                           traceparent=m.traceparent, time=at)


def status_event(m: OutboundMessage, status: contract.Status, at: datetime | None = None, *,
                 provider_message_id: str | None = None,
                 error: contract.StatusError | None = None, kind: str = contract.STATUS) -> EncodedEvent:
    at = at or datetime.now(UTC)
    data = _status_json(m, status, at, provider_message_id) if error is None and at.tzinfo is UTC else \
        contract.MessageStatus(message_id=m.message_id, provider_message_id=provider_message_id,
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
