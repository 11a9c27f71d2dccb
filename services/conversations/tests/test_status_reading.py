"""The history reads a `message.status` delivery in one pass (`records.StatusEvent`): what it records is
what the general way (a `CloudEvent`, then the status model) records, for every kind of status; and a
delivery that is not a valid status event fails the same way as before — or is read by the general way
when it is another event on the subject."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nats.aio.msg import Msg
from pydantic import ValidationError

from switchboard_contracts import message
from switchboard_contracts.envelope import make_envelope
from switchboard_conversations.records import collect, collect_delivery
from switchboard_runtime.messaging.consumer import BadMessage, Delivery

SUBJECT = "sb.evt.org-1.message.status"
texts = st.text(max_size=20)
errors = st.none() | st.builds(message.StatusError, code=st.integers(0, 10**6) | texts, title=texts,
                               detail=st.none() | texts)
statuses = st.builds(message.MessageStatus, message_id=st.none() | texts, provider_message_id=st.none() | texts,
                     sender_id=texts, recipient=texts, status=st.sampled_from(list(message.Status)),
                     timestamp=st.datetimes(timezones=st.just(UTC)), error=errors, client_ref=st.none() | texts)


def delivery(raw: bytes, subject: str = SUBJECT) -> Delivery:
    return Delivery(Msg(_client=None, subject=subject, data=raw))


def read(d: Delivery) -> tuple[dict, list]:
    messages, found = {}, []
    collect_delivery(d, messages, found)
    return messages, found


def general(d: Delivery) -> tuple[dict, list]:
    messages, found = {}, []
    collect(d.event(), messages, found)
    return messages, found


@settings(max_examples=200, deadline=None)
@given(statuses)
def test_a_status_is_recorded_as_the_general_way_records_it(status):
    d = delivery(make_envelope(id="e-1", source="switchboard/test", type=message.STATUS, orgid="org-1",
                               data=status).to_json_bytes())
    assert read(d) == general(d)


def test_other_events_on_the_subject_and_invalid_statuses_take_the_general_way():
    at = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    accepted = make_envelope(id="a", source="s", type=message.ACCEPTED, orgid="org-1", data=message.MessageAccepted(
        message_id="m-1", sender_id="s-1", to="+4915112345678", text="hi", timestamp=at))
    messages, found = read(delivery(accepted.to_json_bytes()))  # not a status, whatever its subject says
    assert list(messages) == ["m-1"] and found == []

    status = make_envelope(id="e", source="s", type=message.STATUS, orgid="org-1", data=message.MessageStatus(
        message_id="m-1", sender_id="s-1", recipient="+4915112345678", status="read", timestamp=at))
    document = json.loads(status.to_json_bytes())
    with pytest.raises(BadMessage):  # the envelope incomplete: as `Delivery.event` refuses it
        read(delivery(json.dumps({k: v for k, v in document.items() if k != "correlationid"}).encode()))
    with pytest.raises(ValidationError):  # an unknown status: as the status model refuses it
        read(delivery(json.dumps({**document, "data": {**document["data"], "status": "lost"}}).encode()))
    with pytest.raises(BadMessage):
        read(delivery(b"not json"))
