"""The live feed behind `GET /v1/stream`: one core NATS subscription of `sb.live.>` per gateway process
(SWITCHBOARD_EVENTS republishes every stored event there, with its stream sequence in `Nats-Sequence`),
fanned out in memory to the SSE clients of each organization. It is held only while the process has
clients: the first subscribes it at the stream's position, and the audit drops it once none is left.

- Per event: the subject names the organization and the type (`sb.live.<org>.<entity>.<event>`), no
  JSON is decoded, and the SSE frame (`id:` the sequence, `event:` the type, `data:` the CloudEvent) is
  built once and shared by every client of the organization whose filter takes it.
- Nothing is missed: the feed sees every sequence of the stream, so a hole (a slow-consumer drop, a
  reconnect) shows as a jump; the feed then reads the missing sequences from the stream itself and
  hands them on in order before the message that showed the hole. While idle, an audit compares the
  stream's last sequence with the feed's every few seconds, so a loss with nothing after it is found too.
- Each client has a bounded mailbox. A client that falls behind (mailbox full) reads from the stream
  instead (an ephemeral pull consumer filtered on its organization), from the last sequence it was
  sent, while the mailbox buffers again; then it drains the mailbox, skipping what it already has.
  A client that resumes (`Last-Event-ID`) does the same from the sequence it names: registered first,
  replayed, then live — no gap, no repeat. A position the stream no longer holds (aged out or purged
  in front of it, or beyond its end) is answered with `event: resync` and the stream goes on from now.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import nats.errors
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from switchboard_contracts import subjects
from switchboard_runtime.logs import get_logger

from .stored_events import STREAM, read_stored
from .stream_types import ROLE_PATTERNS, Pattern, TypeFilter, allowed_types, parse_types  # noqa: F401 - the API's

log = get_logger(__name__)

KEEPALIVE = b": keep-alive\n\n"
STOP_SECONDS = 5.0
OPENED = b": connected\n\n"  # the client is registered: everything stored from now on reaches it
# the feed's own subscription may hold this much before nats-py drops (a drop is repaired, see above)
PENDING_MSGS, PENDING_BYTES = 200_000, 512 * 1024 * 1024

# --- frames ---------------------------------------------------------------------------------------

def sse_frame(seq: int, type_: str, data: bytes) -> bytes:
    """One SSE message. The CloudEvent is compact JSON (one line); should a producer ever send one
    over several lines, each line is a `data:` line (a client joins them with newlines: same JSON)."""
    head = b"id: %d\nevent: %s\n" % (seq, type_.encode())
    if b"\n" in data or b"\r" in data:
        lines = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
        return head + b"".join(b"data: " + line + b"\n" for line in lines) + b"\n"
    return head + b"data: " + data + b"\n\n"


def resync_frame(position: int, asked: int, first: int) -> bytes:
    data = json.dumps({"reason": "position_unavailable", "last_event_id": asked, "first_seq": first,
                       "resumes_after": position}, separators=(",", ":")).encode()
    return b"id: %d\nevent: resync\ndata: %s\n\n" % (position, data)


def _split(subject: str) -> tuple[str, str] | None:
    """`sb.live.<org>.<entity>.<event>` (or `sb.evt.…`) → (org, `<entity>.<event>`)."""
    parts = subject.split(".", 3)
    if len(parts) != 4 or "." not in parts[3]:
        return None
    return parts[2], parts[3]


# --- one SSE client ---------------------------------------------------------------------------------

class Listener:
    """One client's place on the feed: its organization, what it takes, its mailbox and position."""

    __slots__ = ("org", "filter", "limit", "pending", "overflowed", "closed", "last_sent", "last_write", "_waiter",
                 "_takes")

    def __init__(self, org: str, type_filter: TypeFilter, limit: int, position: int):
        self.org, self.filter, self.limit = org, type_filter, limit
        self.pending: list[tuple[int, bytes]] = []
        self.overflowed = False  # the mailbox filled: what follows is read from the stream
        self.closed = False
        self.last_sent = position  # the sequence it resumes after
        self.last_write = 0.0  # loop time of its last write (the feed's ticker wakes it for a keep-alive)
        self._waiter: asyncio.Future | None = None
        self._takes: dict[str, bool] = {}

    def takes(self, type_: str) -> bool:
        ok = self._takes.get(type_)
        if ok is None:
            ok = self._takes[type_] = self.filter.accepts(type_)
        return ok

    def offer(self, seq: int, type_: str, frame: bytes) -> None:
        if self.overflowed or not self.takes(type_):
            return
        if len(self.pending) >= self.limit:
            self.overflowed = True
        else:
            self.pending.append((seq, frame))
        self.wake()

    def wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self) -> None:
        """Until an offer, the ticker or `close` wakes it (no timer of its own: one per wait cost more
        than the rest of a wake-up)."""
        waiter = self._waiter = asyncio.get_running_loop().create_future()
        try:
            await waiter
        finally:
            self._waiter = None

    def close(self) -> None:
        self.closed = True
        self.wake()


@dataclass(frozen=True)
class Start:
    """Where a client starts: after `position`; `replay` when the stream must be read from there first;
    `resync` (the asked position and the stream's first sequence) when the asked one is gone."""

    position: int
    replay: bool = False
    resync: tuple[int, int] | None = None


# --- the feed ---------------------------------------------------------------------------------------

class LiveFeed:
    def __init__(self, nc, js: JetStreamContext, *, client_queue: int = 1000, heartbeat_seconds: float = 15.0,
                 audit_seconds: float = 5.0, stream: str = STREAM):
        self.nc, self.js, self.stream = nc, js, stream
        self.client_queue, self.heartbeat_seconds, self.audit_seconds = client_queue, heartbeat_seconds, audit_seconds
        self.listeners: dict[str, set[Listener]] = {}
        self.last_seq = 0  # the last sequence handed on
        self.lock = asyncio.Lock()  # one hand-on at a time: the subscription's, or a repair's
        self.counts = {"events": 0, "repairs": 0, "replays": 0, "resyncs": 0}
        self._sub = None
        self._audit: asyncio.Task | None = None
        self._ticker: asyncio.Task | None = None

    # lifecycle (the host starts it before the API and stops it after)
    async def start(self) -> None:
        self._audit = asyncio.create_task(self._audit_loop(), name="live feed audit")
        self._ticker = asyncio.create_task(self._tick_loop(), name="live feed keep-alives")

    def end_streams(self) -> None:
        """End every client's response (before the HTTP server stops: it waits for open responses)."""
        for listeners in self.listeners.values():
            for listener in listeners:
                listener.close()

    async def stop(self) -> None:
        """Bounded: a task caught in a stored-event read (whose clean-up asks NATS) is waited for at most
        STOP_SECONDS, so the gateway's shutdown never hangs on it."""
        self.end_streams()
        tasks = [t for t in (self._audit, self._ticker) if t is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=STOP_SECONDS)
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._sub.unsubscribe(), STOP_SECONDS)

    @property
    def clients(self) -> int:
        return sum(len(v) for v in self.listeners.values())

    async def _follow(self) -> None:
        """Subscribe to `sb.live.>` at the stream's position (the first client's arrival)."""
        async with self.lock:  # messages that arrive meanwhile wait for the stream's position
            if self._sub is not None:
                return
            sub = await self.nc.subscribe(subjects.LIVE_ALL, cb=self._on_msg,
                                          pending_msgs_limit=PENDING_MSGS, pending_bytes_limit=PENDING_BYTES)
            try:
                self.last_seq = (await self.js.stream_info(self.stream)).state.last_seq
            except BaseException:
                with contextlib.suppress(Exception):
                    await sub.unsubscribe()
                raise
            self._sub = sub

    async def _unfollow(self) -> None:
        """Unsubscribe while no client listens (called under the lock): a gateway nobody streams from
        receives no event at all."""
        sub, self._sub = self._sub, None
        if sub is not None:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    # clients
    async def listen(self, org: str, type_filter: TypeFilter) -> Listener:
        """Register a client: from this moment every event stored reaches its mailbox. The feed follows
        the live subject only while it has clients: the first subscribes it (NATS errors propagate)."""
        if self._sub is None:
            await self._follow()
        listener = Listener(org, type_filter, self.client_queue, self.last_seq)  # no await since _follow
        self.listeners.setdefault(org, set()).add(listener)
        return listener

    def forget(self, listener: Listener) -> None:
        listeners = self.listeners.get(listener.org)
        if listeners is not None:
            listeners.discard(listener)
            if not listeners:
                del self.listeners[listener.org]

    async def start_at(self, listener: Listener, last_event_id: int | None) -> Start:
        """Where a registered client starts: now; or after `last_event_id`, or with a resync when the
        stream no longer holds that position (NATS errors propagate: the caller answers 503)."""
        if last_event_id is None:
            return Start(listener.last_sent)
        state = (await self.js.stream_info(self.stream)).state
        if last_event_id > state.last_seq or last_event_id + 1 < state.first_seq:
            # every event after state.last_seq reaches the mailbox (registered before the question)
            self.counts["resyncs"] += 1
            listener.last_sent = state.last_seq
            return Start(state.last_seq, resync=(last_event_id, state.first_seq))
        listener.last_sent = last_event_id
        return Start(last_event_id, replay=True)

    async def frames(self, listener: Listener, start: Start) -> AsyncIterator[bytes]:
        """The client's response body; unregisters it however it ends."""
        loop = asyncio.get_running_loop()
        try:
            if start.resync is not None:
                yield resync_frame(start.position, *start.resync)
            else:
                yield OPENED
            if start.replay:
                async for chunk in self._replay(listener):
                    yield chunk
            listener.last_write = loop.time()
            while not listener.closed:
                if not listener.pending and not listener.overflowed:
                    if loop.time() - listener.last_write >= self.heartbeat_seconds:
                        yield KEEPALIVE
                        listener.last_write = loop.time()
                    else:
                        await listener.wait()
                    continue
                batch, listener.pending = listener.pending, []
                overflowed, listener.overflowed = listener.overflowed, False  # buffering again from here
                out = [frame for seq, frame in batch if seq > listener.last_sent]
                if batch and batch[-1][0] > listener.last_sent:
                    listener.last_sent = batch[-1][0]
                if out:
                    yield out[0] if len(out) == 1 else b"".join(out)
                    listener.last_write = loop.time()
                if overflowed:
                    self.counts["replays"] += 1
                    async for chunk in self._replay(listener):
                        yield chunk
                        listener.last_write = loop.time()
        except (nats.errors.Error, TimeoutError) as exc:
            # the stream could not be read (NATS away): the response ends, and the client, reconnecting
            # with the last id it got, resumes exactly there
            log.warning("live stream ended: the event stream could not be read", orgid=listener.org,
                        after=listener.last_sent, error=repr(exc))
        finally:
            self.forget(listener)

    async def _replay(self, listener: Listener) -> AsyncIterator[bytes]:
        """The client's stored events after its position, until caught up (its mailbox buffers meanwhile)."""
        async with contextlib.aclosing(read_stored(self.js, listener.filter.subjects(listener.org),
                                                   listener.last_sent, stream=self.stream)) as batches:
            async for msgs in batches:
                out = []
                for msg in msgs:
                    seq = msg.metadata.sequence.stream
                    if seq <= listener.last_sent or (split := _split(msg.subject)) is None:
                        continue
                    if listener.takes(split[1]):
                        out.append(sse_frame(seq, split[1], msg.data))
                    listener.last_sent = seq
                if out:
                    yield b"".join(out)

    # the subscription
    async def _on_msg(self, msg: Msg) -> None:
        try:
            seq = int(msg.headers["Nats-Sequence"])  # type: ignore[index]
        except (TypeError, KeyError, ValueError):
            return  # not a republished message
        async with self.lock:
            if seq <= self.last_seq:
                return  # handed on already (by a repair)
            if seq > self.last_seq + 1:
                await self._repair(seq - 1)
            self._hand_on(seq, msg.subject, msg.data)

    def _hand_on(self, seq: int, subject: str, data: bytes) -> None:
        self.last_seq = seq
        self.counts["events"] += 1
        split = _split(subject)
        if split is None:
            return
        listeners = self.listeners.get(split[0])
        if not listeners:
            return
        frame = sse_frame(seq, split[1], data)
        for listener in listeners:
            listener.offer(seq, split[1], frame)

    async def _repair(self, upto: int) -> None:
        """Hand on the stored events after the feed's position up to `upto`, which never came live."""
        self.counts["repairs"] += 1
        log.warning("live feed missed events; reading them from the stream", after=self.last_seq, upto=upto)
        try:
            async with contextlib.aclosing(read_stored(self.js, [], self.last_seq, upto,
                                                       stream=self.stream, batch=1000)) as batches:
                async for msgs in batches:
                    for msg in msgs:
                        seq = msg.metadata.sequence.stream
                        if seq > upto:
                            break
                        if seq > self.last_seq:
                            self._hand_on(seq, msg.subject, msg.data)
        except Exception as exc:  # noqa: BLE001 - NATS away: each client reads the stream itself
            log.warning("live feed could not read the missed events; every client reads them itself",
                        error=repr(exc))
            self._everyone_replays()
        self.last_seq = max(self.last_seq, upto)

    def _everyone_replays(self) -> None:
        for listeners in self.listeners.values():
            for listener in listeners:
                listener.overflowed = True
                listener.wake()

    async def _tick_loop(self) -> None:
        """Wake the clients that have sent nothing for the heartbeat's length (they send a keep-alive):
        one ticker for all (no timer per client): a keep-alive goes out within a tick (1 s, or a third of
        a shorter heartbeat) after the heartbeat's length."""
        loop = asyncio.get_running_loop()
        tick = min(1.0, self.heartbeat_seconds / 3)
        while True:
            await asyncio.sleep(tick)
            due = loop.time() - self.heartbeat_seconds
            for listeners in self.listeners.values():
                for listener in listeners:
                    if listener.last_write <= due:
                        listener.wake()

    async def _audit_loop(self) -> None:
        suspect: int | None = None  # a last sequence of the stream the feed had not reached
        while True:
            await asyncio.sleep(self.audit_seconds)
            try:
                async with self.lock:  # asked under the lock: nothing is handed on meanwhile
                    if not self.listeners or self._sub is None:  # no one to hand anything on to
                        await self._unfollow()
                        suspect = None
                        continue
                    last = (await self.js.stream_info(self.stream)).state.last_seq
                    if last < self.last_seq:  # the stream was made again: every position is void
                        log.warning("SWITCHBOARD_EVENTS starts again; ending every live stream",
                                    feed=self.last_seq, stream=last)
                        self.last_seq, suspect = last, None
                        self.end_streams()
                        continue
                    if suspect is not None and self.last_seq < suspect:
                        await self._repair(suspect)  # stored a while ago and never came live
                    suspect = last if last > self.last_seq else None
            except Exception as exc:  # noqa: BLE001 - NATS away: the next round asks again
                log.warning("live feed audit failed", error=repr(exc))

