"""The nats-py internals `messaging/nats_internals.py` relies on, each checked on a real connection to a
real server: it exists, and it behaves as the module's docstring says. After a nats-py upgrade, a
failure here names the internal that went away or changed. Re-check it against the new source, then
update the module, or drop its use."""

from __future__ import annotations

import asyncio
from importlib.metadata import version

import nats
import pytest
from nats import errors
from nats.aio.client import Client
from nats.js.api import AckPolicy, ConsumerConfig, StreamConfig

from switchboard_runtime.messaging import nats_internals

NATS_PY = version("nats-py")


def _internal(obj: object, name: str, relied_on: str) -> None:
    assert hasattr(obj, name), (f"nats-py {NATS_PY}: {type(obj).__name__}.{name} is gone; nats_internals "
                                f"relies on it ({relied_on})")


async def test_send_command_queues_raw_commands_and_flush_pending_writes_them(nats_url: str):
    nc = await nats.connect(nats_url)
    try:
        _internal(nc, "_send_command", "queue raw protocol bytes on the connection")
        _internal(nc, "_flush_pending", "wake the connection's flusher")
        sub = await nc.subscribe("internals.>")
        await nc.flush()
        hdr = b"NATS/1.0\r\nK: v\r\n\r\n"
        commands = b"PUB internals.a 2\r\nhi\r\nHPUB internals.b r.1 %d %d\r\n%syo\r\n" % (
            len(hdr), len(hdr) + 2, hdr)
        await nats_internals.write_commands(nc, commands)
        # No nc.flush() here: the flusher woken by _flush_pending must write the buffer within a few
        # turns of the event loop (else it would wait for the server's next PING, seconds later).
        for _ in range(20):
            if nc.pending_data_size == 0:
                break
            await asyncio.sleep(0)
        assert nc.pending_data_size == 0, (f"nats-py {NATS_PY}: Client._flush_pending no longer wakes the "
                                           "flusher that writes what Client._send_command queued")
        try:
            a, b = [await sub.next_msg(timeout=5) for _ in range(2)]
        except errors.TimeoutError:
            pytest.fail(f"nats-py {NATS_PY}: Client._send_command + Client._flush_pending no longer "
                        "write queued commands to the server (nats_internals.write_commands)")
        assert (a.subject, a.data, a.headers) == ("internals.a", b"hi", None), \
            f"nats-py {NATS_PY}: Client._send_command no longer sends its bytes as they are"
        assert (b.subject, b.reply, b.data, b.headers) == ("internals.b", "r.1", b"yo", {"K": "v"}), \
            f"nats-py {NATS_PY}: Client._send_command no longer sends its bytes as they are"
    finally:
        await nc.close()


async def test_msg_client_is_the_connection_and_ackd_is_the_ack_flag(nats_url: str):
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        await js.add_stream(StreamConfig(name="INTERNALS", subjects=["internals.js.>"]))
        for i in range(2):
            await js.publish(f"internals.js.{i}", b"x")
        sub = await js.pull_subscribe("internals.js.>", "internals", config=ConsumerConfig(
            ack_policy=AckPolicy.EXPLICIT, ack_wait=1.0))
        first, second = await sub.fetch(2, timeout=5)
        _internal(first, "_client", "the connection a message arrived on")
        _internal(first, "_ackd", "the flag Msg.ack sets and Msg.is_acked reads")
        assert nats_internals.connection_of(first) is nc, \
            f"nats-py {NATS_PY}: Msg._client is no longer the connection the message arrived on"
        assert first._ackd is False and not first.is_acked
        await nats_internals.write_commands(nc, f"PUB {first.reply} 0\r\n\r\n".encode())
        nats_internals.mark_acked([first])
        assert first.is_acked, f"nats-py {NATS_PY}: Msg.is_acked no longer reads Msg._ackd"
        with pytest.raises(errors.MsgAlreadyAckdError):  # nats-py refuses a second ack by that flag
            await first.ack()
        await second.ack()
        assert second._ackd is True, f"nats-py {NATS_PY}: Msg.ack no longer sets Msg._ackd"
        await nc.flush()
        await asyncio.sleep(1.5)  # past ack_wait: the ack written by hand must have counted
        info = await js.consumer_info("INTERNALS", "internals")
        assert info.num_ack_pending == 0 and info.num_redelivered == 0
    finally:
        await nc.close()


async def test_pending_queue_is_where_the_read_loop_puts_a_subscriptions_messages(nats_url: str):
    nc = await nats.connect(nats_url)
    try:
        sub = await nc.subscribe("internals.q.>", pending_bytes_limit=0)
        _internal(sub, "_pending_queue", "the queue the read loop puts messages in")
        assert isinstance(sub._pending_queue, asyncio.Queue), \
            f"nats-py {NATS_PY}: Subscription._pending_queue is no longer an asyncio.Queue"
        received: list[tuple[str, bytes]] = []
        arrived = asyncio.Event()

        def on_msg(msg) -> None:
            received.append((msg.subject, msg.data))
            arrived.set()

        nats_internals.hand_off(sub, on_msg)
        for i in range(3):
            await nc.publish(f"internals.q.{i}", str(i).encode())
        try:
            while len(received) < 3:
                await asyncio.wait_for(arrived.wait(), 5)
                arrived.clear()
        except TimeoutError:
            pytest.fail(f"nats-py {NATS_PY}: the read loop no longer hands a subscription's messages to "
                        f"Subscription._pending_queue.put_nowait (got {received})")
        assert received == [("internals.q.0", b"0"), ("internals.q.1", b"1"), ("internals.q.2", b"2")]
        assert sub.pending_msgs == 0
        await sub.unsubscribe()  # asks the stand-in only what an empty queue answers
        drained = await nc.subscribe("internals.d", pending_bytes_limit=0)
        nats_internals.hand_off(drained, on_msg)
        await nc.publish("internals.d", b"d")
        await asyncio.wait_for(arrived.wait(), 5)
        await asyncio.wait_for(drained.drain(), 5)  # drain joins the stand-in
        assert received[-1] == ("internals.d", b"d")
    finally:
        await nc.close()


HEADER_BLOCKS = [
    b"Nats-Msg-Id: a:b:sent\r\nContent-Type: application/cloudevents+json; charset=utf-8\r\n"
    b"traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n\r\n",
    b"K:v\r\nK2:\tv2 \r\n: no name\r\nno colon\r\nBad Name: x\r\nTab\tName: y\r\n Spaced : z\r\n",
    b"N\xc3\xa4me: non-ascii name\r\nV: caf\xc3\xa9\r\nW: \xff\xfe broken\r\nX: a: b: c\r\nX: again\r\n",
    b"\x1fUnit: sep\r\nA\x1cB: fs\r\nA\x0bB: vt\r\n\r\n\r\n", b"", b"\r\n",
]


def test_parse_header_lines_reads_every_block_as_nats_py_does():
    for raw in HEADER_BLOCKS:
        assert nats_internals.parse_header_lines(raw) == Client._parse_header_lines(raw), \
            f"nats-py {NATS_PY}: Client._parse_header_lines now reads {raw!r} otherwise"


async def test_a_connection_reads_headers_with_parse_header_lines(nats_url: str):
    calls = []

    class Counting(nats_internals.Connection):
        @staticmethod
        def _parse_header_lines(raw: bytes) -> dict[str, str]:
            calls.append(raw)
            return nats_internals.parse_header_lines(raw)

    _internal(Client, "_parse_header_lines", "the header lines of every message")
    nc = Counting()
    await nc.connect([nats_url])
    try:
        sub = await nc.subscribe("internals.headers")
        await nc.publish("internals.headers", b"x", headers={"Nats-Msg-Id": "m-1", "K": "v"})
        msg = await sub.next_msg(timeout=5)
    finally:
        await nc.close()
    assert msg.headers == {"Nats-Msg-Id": "m-1", "K": "v"}
    assert calls, f"nats-py {NATS_PY}: Client._process_headers no longer calls _parse_header_lines"
    plain = await nats_internals.connect([nats_url])
    try:
        assert isinstance(plain, nats_internals.Connection)
    finally:
        await plain.close()
