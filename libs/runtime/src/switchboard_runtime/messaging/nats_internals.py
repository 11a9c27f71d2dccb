"""Every use of nats-py's private attributes in Switchboard, in one place, each behind a named function.

Checked against nats-py 2.16.0, the version uv.lock pins. `libs/runtime/tests/test_nats_internals.py`
checks each attribute on a real connection to a real server, and that it behaves as relied on below;
after an upgrade, a failure there names the internal that went away or changed. The code has no
fallback: if an internal is gone, the call fails.

What is relied on, and what it buys. The figures are client CPU per batch, compared with the public
path and measured in one process, alternating the two paths, 11 to 15 rounds, on our 2-core machines:

- `Client._send_command(cmd: bytes)` appends raw protocol bytes to the connection's pending buffer
  (`Client._pending`, counted in `_pending_data_size`, force-flushed past `pending_size`), and
  `Client._flush_pending()` wakes the connection's flusher task, which writes that buffer to the
  socket. `write_commands` hands over a whole batch of PUB/HPUB commands as one buffer (`wire.py`
  builds them the way nats-py builds them). For 2,000 HPUBs it costs 13-16 ms, where one
  `Client.publish` per message costs 17-21 ms (about 25% less).
- `Msg._client` is the connection a message arrived on, the one `Msg.ack` publishes with.
  `Msg._ackd` is the flag `Msg.ack` sets, `Msg.is_acked` reads, and `Msg.ack` refuses on
  (`MsgAlreadyAckdError`). `connection_of` and `mark_acked` let a batch of acks go out in one write
  (`acks.py`). For 2,000 acks that is 2.1-2.9 ms, where `Msg.ack` one by one costs 4.1-5.6 ms (about
  half).
- `Subscription._pending_queue` is the queue into which nats-py's read loop (`Client._process_msg`)
  puts each message of a subscription that has no callback and no future (`put_nowait`). The
  subscription itself only asks it `qsize()` (`pending_msgs`), `empty()` (`unsubscribe`), truth and
  `join()` (`drain`). It reads messages from it (`get`) only in `next_msg`, `messages` or a
  callback's task, and a hand-off subscription uses none of these. `hand_off` puts a `_Handoff` in
  the queue's place, so each reply is handed to the request pipeline inside the read loop's own step
  (`pipeline.py`). For 5,000 replies that is 24-31 ms, where a subscription callback (queue, task and
  coroutine per reply) costs 28-35 ms (about 15% less).

- `Client._parse_header_lines(raw)` (a static method) is what `Client._process_headers` calls to read
  each message's header lines (when `fast_mail_parser` is not installed; it is not). `Connection`, the
  client the Bus connects with, overrides it with `parse_header_lines`: the same result (checked
  against nats-py's on tricky input), but its check that a name holds no whitespace is one
  `str.split` instead of a generator over every character — 0.34-0.55 s against 0.72-0.88 s for
  200,000 blocks of our three headers; it was 2-11 % of each consumer's CPU in `make bench-campaign`
  profiles. The pull loop's deliveries go through `hand_off` too (`pull.py`).

`JetStreamContext._nc` is not used. The Bus's JetStream context names its connection publicly
(`bus.BusJetStream.connection`). `Client._max_payload` is not used either: the public
`Client.max_payload` is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription


async def write_commands(nc: Client, buffer: bytes) -> None:
    """Queue raw protocol bytes (complete PUB/HPUB commands) on the connection and wake its flusher."""
    await nc._send_command(buffer)
    await nc._flush_pending()


def connection_of(msg: Msg) -> Client:
    """The connection a message arrived on (the one its ack goes out on)."""
    return msg._client


def mark_acked(msgs: Iterable[Msg]) -> None:
    """Record that each message's ack has been written, as `Msg.ack` does once it has published it."""
    for msg in msgs:
        msg._ackd = True


class _Handoff:
    """Stands in for a subscription's message queue. The read loop's `put_nowait` calls `on_msg` at
    once. Everything else answers as a queue that is always empty would."""

    __slots__ = ("on_msg",)

    def __init__(self, on_msg: Callable[[Msg], None]):
        self.on_msg = on_msg

    def put_nowait(self, msg: Msg) -> None:
        self.on_msg(msg)

    def qsize(self) -> int:
        return 0

    def empty(self) -> bool:
        return True

    async def join(self) -> None:
        return None


def hand_off(sub: Subscription, on_msg: Callable[[Msg], None]) -> None:
    """Deliver every message of `sub` to `on_msg`, synchronously, from nats-py's read loop. `sub` must
    have been subscribed without a callback, and with `pending_bytes_limit=0`: nothing is ever pending
    in it, so nothing should be counted against a limit. `on_msg` runs inside the read loop: it must be
    quick, and it must not raise."""
    sub._pending_queue = _Handoff(on_msg)


def parse_header_lines(raw: bytes) -> dict[str, str]:
    """nats-py 2.16's `Client._parse_header_lines`, the same result: `Name: Value` lines, a line with no
    colon or a name that is not ASCII or holds whitespace skipped, values decoded as UTF-8 with
    replacement. A name holds whitespace exactly when splitting it on whitespace does not give it back."""
    out: dict[str, str] = {}
    for line in raw.split(b"\r\n"):
        name, sep, value = line.partition(b":")
        if not sep:
            continue
        try:
            key = name.strip().decode("ascii")
        except UnicodeDecodeError:
            continue
        if key and key.split() != [key]:  # whitespace in it (as str.isspace counts it, \x1c-\x1f too)
            continue
        out[key] = value.strip().decode("utf-8", "replace")
    return out


class Connection(Client):
    """nats-py's client, reading header lines with `parse_header_lines`."""

    _parse_header_lines = staticmethod(parse_header_lines)


async def connect(servers: list[str], **options) -> Client:
    """`nats.connect`, with a `Connection`."""
    nc = Connection()
    await nc.connect(servers, **options)
    return nc
