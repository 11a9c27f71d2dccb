"""The runtime's batched NATS writes on a real server: `write_many` delivers what nats-py's
`publish` would (payloads, headers, CR/LF in a header value made spaces), refuses what it refuses,
and takes nats-py's own path on a closed connection; `ack_many` acks a JetStream batch so nothing is
redelivered."""

from __future__ import annotations

import asyncio

import nats
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nats import errors
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig

from switchboard_runtime.messaging import wire
from switchboard_runtime.messaging.acks import ack_many
from switchboard_runtime.messaging.wire import write_many


async def _received(sub, n: int) -> list:
    return [await sub.next_msg(timeout=5) for _ in range(n)]


async def test_write_many_delivers_payloads_and_headers_as_publish_would(nats_url: str):
    nc = await nats.connect(nats_url)
    try:
        sub = await nc.subscribe("wire.>")
        sent = await write_many(nc, [
            ("wire.a", "", b"plain", None),
            ("wire.b", "reply.here", b"", {"Nats-Msg-Id": "m-1", "X-Note": "two\r\nlines  "}),
            ("wire.c", "", b"\x00binary\r\n", {"Only": "one"}),
        ])
        await nc.flush()
        a, b, c = await _received(sub, 3)
        assert sent == 3
        assert (a.subject, a.data, a.headers) == ("wire.a", b"plain", None)
        assert (b.subject, b.reply, b.data) == ("wire.b", "reply.here", b"")
        assert b.headers == {"Nats-Msg-Id": "m-1", "X-Note": "two  lines"}
        assert (c.data, c.headers) == (b"\x00binary\r\n", {"Only": "one"})
        assert await write_many(nc, []) == 0
    finally:
        await nc.close()


async def test_write_many_refuses_what_publish_refuses(nats_url: str):
    nc = await nats.connect(nats_url)
    try:
        with pytest.raises(errors.BadSubjectError):
            await write_many(nc, [("has space", "", b"x", None)])
        with pytest.raises(errors.BadSubjectError):
            await write_many(nc, [("", "", b"x", None)])
        with pytest.raises(errors.BadHeaderError):
            await write_many(nc, [("wire.x", "", b"x", {"bad key": "v"})])
        with pytest.raises(errors.MaxPayloadError):
            await write_many(nc, [("wire.x", "", b"x" * (nc.max_payload + 1), None)])
    finally:
        await nc.close()
    with pytest.raises(errors.ConnectionClosedError):  # not connected: nats-py's own publish, its error
        await write_many(nc, [("wire.x", "", b"x", None)])


async def test_ack_many_acks_a_jetstream_batch(nats_url: str):
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        await js.add_stream(StreamConfig(name="WIRE", subjects=["wired.>"]))
        for i in range(50):
            await js.publish(f"wired.{i}", b"x")
        sub = await js.pull_subscribe("wired.>", "acker", config=ConsumerConfig(
            ack_policy=AckPolicy.EXPLICIT, ack_wait=1.0))
        msgs = await sub.fetch(50, timeout=5)
        assert len(msgs) == 50
        await ack_many(msgs[:49])
        await msgs[49].ack()
        with pytest.raises(errors.MsgAlreadyAckdError):  # already acked: nats-py's own ack refuses
            await ack_many(msgs[:2])
        await nc.flush()
        await asyncio.sleep(1.5)  # past ack_wait: anything not acked would be redelivered now
        info = await js.consumer_info("WIRE", "acker")
        assert info.num_ack_pending == 0 and info.num_redelivered == 0
        assert info.delivered.stream_seq == 50 and info.ack_floor.stream_seq == 50
    finally:
        await nc.close()


# The checks' shortcuts give the regular expressions' answers (no server needed).
_TEXT = st.text(st.characters(codec="utf-8"), max_size=40) | st.sampled_from(
    ["sb.evt.o1.message.status", "a b", "a\tb", "a\u00a0b", "a\u2028b", "a\x1fb", "a\x00b", "", " "])


@given(_TEXT)
@settings(max_examples=400, deadline=None)
def test_the_subject_check_answers_as_the_expression(subject: str):
    assert wire.bad_subject(subject) == (not subject or wire._SUBJECT_INVALID.search(subject) is not None)


@given(st.text(st.characters(codec="ascii"), min_size=1, max_size=12))
@settings(max_examples=400, deadline=None)
def test_the_header_key_check_answers_as_the_expression_twice(key: str):
    expected = wire._HEADER_KEY.fullmatch(key) is not None
    assert wire.good_header_key(key) == expected
    assert wire.good_header_key(key) == expected  # the second time from what it remembered


@given(_TEXT)
@settings(max_examples=400, deadline=None)
def test_header_values_are_written_as_nats_py_writes_them(value: str):
    assert wire.header_value(value) == value.strip().translate(wire._VALUE_NEWLINES)
