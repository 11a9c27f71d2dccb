"""The session-pool's `accepted` and status events, whose data is written straight to JSON on the hot
path (`statuses._accepted_json`, `_status_json`), are byte for byte the documents their contract models
give (`model_dump_json`, in `envelope_json`) — for any text in any field, with and without each optional
one; and the events that take the model's path (an error, a time that is not UTC) are too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard_contracts import message as contract
from switchboard_contracts.envelope import encode_envelope
from switchboard_session_pool.domain.outbound import OutboundMessage
from switchboard_session_pool.statuses import SOURCE, accepted_event, status_event

texts = st.text(max_size=40)  # every code point hypothesis draws: control characters, quotes, non-ASCII
optional = st.none() | texts
utc_times = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))
messages = st.builds(OutboundMessage, message_id=texts, org_id=texts, sender_id=texts, sender_phone=texts, to=texts,
                     text=texts, client_ref=optional, correlationid=texts, causationid=texts, traceparent=optional,
                     type=texts)


def envelope(m: OutboundMessage, id: str, type: str, data, at: datetime) -> bytes:
    return encode_envelope(id=id, source=SOURCE, type=type, orgid=m.org_id, data=data, subject=m.message_id,
                           correlationid=m.correlationid, causationid=m.causationid, traceparent=m.traceparent,
                           time=at).payload


def status_model(m: OutboundMessage, status, at, pmid, error=None) -> bytes:
    data = contract.MessageStatus(message_id=m.message_id, provider_message_id=pmid, sender_id=m.sender_id,
                                  recipient=m.to, status=status, timestamp=at, error=error, client_ref=m.client_ref)
    return envelope(m, contract.status_event_id(m.message_id, status.value), contract.STATUS, data, at)


@settings(max_examples=300, deadline=None)
@given(messages, utc_times)
def test_an_accepted_event_is_its_model_serialized(m, at):
    data = contract.MessageAccepted(message_id=m.message_id, sender_id=m.sender_id, from_=m.sender_phone or None,
                                    to=m.to, type=m.type, text=m.text, client_ref=m.client_ref, timestamp=at)
    expected = envelope(m, contract.accepted_event_id(m.message_id), contract.ACCEPTED, data, at)
    assert accepted_event(m, at).payload == expected


@settings(max_examples=300, deadline=None)
@given(messages, utc_times, st.sampled_from(list(contract.Status)), optional)
def test_a_status_event_is_its_model_serialized(m, at, status, pmid):
    assert status_event(m, status, at, provider_message_id=pmid).payload == status_model(m, status, at, pmid)


@settings(max_examples=50, deadline=None)
@given(messages, utc_times, st.integers(-12, 12))
def test_statuses_with_an_error_or_another_time_zone_are_their_model_serialized(m, at, hours):
    error = contract.StatusError(code=131026, title="Message undeliverable", detail="ü \"x\"\n")
    failed = status_event(m, contract.Status.FAILED, at, error=error)
    assert failed.payload == status_model(m, contract.Status.FAILED, at, None, error)
    local = at.astimezone(timezone(timedelta(hours=hours)))
    assert status_event(m, contract.Status.READ, local).payload == status_model(m, contract.Status.READ, local, None)
    assert accepted_event(m, local).payload == envelope(
        m, contract.accepted_event_id(m.message_id), contract.ACCEPTED,
        contract.MessageAccepted(message_id=m.message_id, sender_id=m.sender_id, from_=m.sender_phone or None,
                                 to=m.to, type=m.type, text=m.text, client_ref=m.client_ref, timestamp=local), local)
