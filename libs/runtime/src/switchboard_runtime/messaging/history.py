"""Reading a stretch of a stream fast and in order: an organization's history (replay, the audit export),
the dead letters.

One ephemeral pull consumer (no acks, in memory, filtered, from a sequence or a time) is read with
pull requests of BATCH messages, two in flight, into one inbox whose messages nats-py's read loop
hands straight to a list (`nats_internals.hand_off`: no queue, task or future per message). The
stream sequence, the stored time and the pending count come from each message's reply subject (no
JSON is parsed, no CloudEvent built). The read is bounded: it ends at the last message the stream
held when it started (its last sequence, and the count the consumer had pending then), at `until`,
or when nothing is pending. A message lost on the way (a reconnect) shows as a gap in the consumer
sequence and ends the read with `HistoryInterrupted`, naming where to resume.

Measured on our 2-core machines (`make bench-replay`, 150,000 of 200,000 events): the CLI's replay to a
file ~117,000 events/s, `org_history` one event at a time ~120,000/s, `audit_export` ~90,000/s, where
nats-py's own ordered consumer reading the same messages and doing nothing with them does ~130,000/s."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC, datetime
from typing import NamedTuple

from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from switchboard_contracts import streams as specs
from switchboard_contracts.envelope import utcnow

from .. import audit
from ..logs import get_logger
from .bus import BusJetStream
from .nats_internals import hand_off

log = get_logger(__name__)

BATCH = 5_000  # messages per pull request (two in flight)
EXPIRES = 5.0  # seconds a pull request waits at most
TERMINAL = {"404", "408", "409"}


class StoredEvent(NamedTuple):
    sequence: int  # the stream sequence
    subject: str
    time: datetime  # when the stream stored it (UTC)
    data: bytes  # the exact stored bytes


class HistoryInterrupted(Exception):
    """Messages were lost on the way (the connection dropped): resume after `last_sequence`."""

    def __init__(self, last_sequence: int | None):
        super().__init__(f"the read was interrupted; resume after stream sequence {last_sequence}")
        self.last_sequence = last_sequence


# --- filters --------------------------------------------------------------------------------

def _token_ok(token: str) -> bool:
    return bool(token) and not any(c in token for c in " \t\r\n.*>")


def type_filters(orgid: str, types: Iterable[str] | None = None) -> list[str]:
    """Subject filters for an organization's events of the given types: `message.*`,
    `conversation.assigned`, `message` (= `message.*`), `*.created`; none = the whole history. Filters
    another filter covers are dropped (JetStream refuses overlapping filters)."""
    if not _token_ok(orgid):
        raise ValueError(f"not an organization id: {orgid!r}")
    wanted = [t.strip() for t in (types or []) if t.strip()]
    if not wanted:
        return [f"sb.evt.{orgid}.>"]
    filters: list[str] = []
    for t in wanted:
        parts = t.removeprefix("switchboard.").split(".")
        if len(parts) == 1:
            parts.append("*")
        if parts[-1] == ">" and len(parts) == 2 and _token_ok(parts[0]):
            parts[-1] = "*"
        if len(parts) != 2 or not all(p == "*" or _token_ok(p) for p in parts):
            raise ValueError(f"not an event type: {t!r} (write entity.event, e.g. message.* or conversation.assigned)")
        filters.append(f"sb.evt.{orgid}.{parts[0]}.{parts[1]}")
    return _without_covered(filters)


def _covers(a: str, b: str) -> bool:
    ta, tb = a.split("."), b.split(".")
    return len(ta) == len(tb) and all(x == "*" or x == y for x, y in zip(ta, tb, strict=True))


def _without_covered(filters: list[str]) -> list[str]:
    distinct = sorted(set(filters))
    return [f for f in distinct if not any(g != f and _covers(g, f) for g in distinct)]


# --- the reader -----------------------------------------------------------------------------

def ack_fields(reply: str) -> tuple[int, int, int, int]:
    """(stream sequence, consumer sequence, stored time in ns, pending) from a JetStream reply
    subject: `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ns>.<pending>`, or the form with
    a domain and an account hash (12 tokens or more)."""
    t = reply.split(".")
    if len(t) == 9:
        return int(t[5]), int(t[6]), int(t[7]), int(t[8])
    return int(t[7]), int(t[8]), int(t[9]), int(t[10])


class StreamReader:
    """Batches of a stream's messages on `filters`, in stream order, from `start_seq` or `since` (else
    from the start), up to the last message stored when the read began, or to `until`."""

    def __init__(self, js: BusJetStream, stream: str, filters: list[str], *, start_seq: int | None = None,
                 since: datetime | None = None, until: datetime | None = None, batch: int = BATCH,
                 on_start: Callable[[int], None] | None = None):
        if not isinstance(js, BusJetStream):
            raise TypeError("reading history needs the Bus's JetStream context (BusJetStream)")
        self.js, self.nc, self.stream, self.filters = js, js.connection, stream, filters
        self.start_seq, self.since, self.batch = start_seq, since, batch
        self.until_ns = int(until.timestamp() * 1e9) if until else None
        self.name = f"history-{uuid.uuid4().hex}"
        self.buffer: list[Msg] = []
        self.arrived = asyncio.Event()
        self.asked = 0  # messages the open pull requests may still bring
        self.stopped_requests = False
        self.sub = None
        self.on_start = on_start  # told how many messages (at most) the read will bring, once it knows

    def _on_msg(self, msg: Msg) -> None:  # in nats-py's read loop: quick, never raises
        if not msg.data and msg.headers and msg.headers.get("Status"):
            if msg.headers["Status"] in TERMINAL:
                left = msg.headers.get("Nats-Pending-Messages")
                self.asked = max(0, self.asked - int(left)) if left and left.isdigit() else 0
                self.stopped_requests = True
                self.arrived.set()
            return
        self.asked -= 1
        self.buffer.append(msg)
        self.arrived.set()

    async def _consumer(self) -> tuple[int, int]:
        """Create the consumer; (messages it has to deliver, the stream's last sequence), both as of now."""
        info = await self.js.stream_info(self.stream)
        last_seq = info.state.last_seq
        if self.start_seq is not None:
            start = {"deliver_policy": DeliverPolicy.BY_START_SEQUENCE, "opt_start_seq": max(1, self.start_seq)}
        elif self.since is not None:
            start = {"deliver_policy": DeliverPolicy.BY_START_TIME, "opt_start_time": self.since.astimezone(UTC)}
        else:
            start = {"deliver_policy": DeliverPolicy.ALL}
        many = len(self.filters) > 1
        config = ConsumerConfig(name=self.name, ack_policy=AckPolicy.NONE, mem_storage=True, num_replicas=1,
                                inactive_threshold=60.0, max_waiting=8,
                                filter_subject=None if many else self.filters[0],
                                filter_subjects=self.filters if many else None, **start)
        consumer = await self.js.add_consumer(self.stream, config)
        return consumer.num_pending or 0, last_seq

    async def _request(self, count: int) -> None:
        self.asked += count
        body = json.dumps({"batch": count, "expires": int(EXPIRES * 1e9)}).encode()
        await self.nc.publish(f"$JS.API.CONSUMER.MSG.NEXT.{self.stream}.{self.name}", body, reply=self.sub.subject)

    async def batches(self) -> AsyncIterator[list[tuple[int, int, Msg]]]:
        """Lists of (stream sequence, stored time in ns, message)."""
        self.sub = await self.nc.subscribe(self.nc.new_inbox(), pending_bytes_limit=0)
        hand_off(self.sub, self._on_msg)
        try:
            total, last_seq = await self._consumer()
            if self.on_start is not None:
                self.on_start(total)
            if total == 0:
                return
            received, cseq, last_sseq = 0, 0, None
            while received < total:
                want = total - received - self.asked
                while want > 0 and self.asked < 2 * self.batch:
                    n = min(self.batch, want)
                    await self._request(n)
                    want -= n
                if not self.buffer:
                    self.arrived.clear()
                    try:
                        await asyncio.wait_for(self.arrived.wait(), EXPIRES + 2.0)
                    except TimeoutError:
                        self.asked = 0  # the requests were lost (a reconnect): ask again, or end if nothing is left
                    if not self.buffer:
                        if self.stopped_requests or self.asked == 0:
                            self.stopped_requests = False
                            if not await self._anything_pending():
                                return
                        continue
                msgs, self.buffer = self.buffer, []
                out: list[tuple[int, int, Msg]] = []
                end = False
                for m in msgs:
                    sseq, c, ns, pending = ack_fields(m.reply)
                    if c != cseq + 1:
                        if out:
                            yield out
                        raise HistoryInterrupted(last_sseq)
                    cseq = c
                    if sseq > last_seq or (self.until_ns is not None and ns > self.until_ns):
                        end = True
                        break
                    out.append((sseq, ns, m))
                    last_sseq = sseq
                    if pending == 0:
                        end = True
                        break
                received += len(msgs)
                if out:
                    yield out
                if end:
                    return
        finally:
            await self._close()

    async def _anything_pending(self) -> bool:
        try:
            info = await self.js.consumer_info(self.stream, self.name)
        except NotFoundError:
            return False
        return bool(info.num_pending)

    async def _close(self) -> None:
        if self.sub is not None:
            try:
                await self.sub.unsubscribe()
            except Exception:  # noqa: BLE001 - a closed connection: the server dropped it already
                pass
        try:
            await self.js.delete_consumer(self.stream, self.name)
        except Exception:  # noqa: BLE001 - it goes by itself after its inactive threshold
            pass


def stored_time(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / 1e9, UTC)


async def org_history_batches(js: BusJetStream, orgid: str, *, since: datetime | None = None,
                              from_seq: int | None = None, until: datetime | None = None,
                              types: list[str] | None = None,
                              batch: int = BATCH, on_start: Callable[[int], None] | None = None,
                              ) -> AsyncIterator[list[StoredEvent]]:
    """`org_history` a list at a time (cheaper per event for a fast writer); `on_start(n)` is told
    how many events at most the read brings (for a progress bar)."""
    reader = StreamReader(js, specs.EVENTS.name, type_filters(orgid, types), start_seq=from_seq, since=since,
                          until=until, batch=batch, on_start=on_start)
    async for msgs in reader.batches():
        yield [StoredEvent(seq, m.subject, stored_time(ns), m.data) for seq, ns, m in msgs]


async def org_history(js: BusJetStream, orgid: str, *, since: datetime | None = None,
                      from_seq: int | None = None, until: datetime | None = None,
                      types: list[str] | None = None) -> AsyncIterator[StoredEvent]:
    """An organization's events in stream order: (stream sequence, subject, stored time, exact bytes),
    from `from_seq` or `since` (else from its first), until `until` (excluded: stored after it) or the
    last event stored when the read began; `types` like `message.*` or `conversation.assigned`."""
    async for events in org_history_batches(js, orgid, since=since, from_seq=from_seq, until=until, types=types):
        for event in events:
            yield event


async def audit_export(js: BusJetStream, orgid: str, since: datetime | None, until: datetime | None,
                       secret_key: str, *, created: datetime | None = None, one_per_line: bool = False,
                       on_start: Callable[[int], None] | None = None) -> AsyncIterator[bytes]:
    """The audit file (docs/audit.md) of an organization's events stored from `since` until `until`:
    the header, a record per event, the signed manifest. Each piece yielded is one or more whole lines
    (`one_per_line`: exactly one); joined, they are the file. Raises ValueError before the first
    piece without a secret key."""
    until = until or utcnow()
    writer = audit.AuditWriter(orgid, since, until, created or utcnow(), secret_key)
    yield writer.header()
    async for events in org_history_batches(js, orgid, since=since, until=until, on_start=on_start):
        if one_per_line:
            for e in events:
                yield writer.record(e.sequence, e.data)
        else:
            yield b"".join([writer.record(e.sequence, e.data) for e in events])
    yield writer.manifest()
