"""Durable JetStream pull consumers that hand a service whole batches in stream order, ack
explicitly, retry with a bounded `max_deliver`, and dead-letter what cannot be processed, with the
reason. (A plain nats-py pull loop: faststream 0.7's batch subscriber crashes on fetch timeouts and
waits to fill batches; see ARCHITECTURE.md.)"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import nats.errors
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from pydantic import ValidationError

from switchboard_contracts.envelope import CloudEvent
from switchboard_contracts.streams import ConsumerSpec

from ..logs import get_logger
from .acks import ack_many
from .bus import BusJetStream
from .pull import PullLoop

log = get_logger(__name__)

# the headers a dead letter carries (and a replay of it, `replays.py`)
REASON = "Switchboard-Dead-Letter-Reason"
ORIGINAL_SUBJECT = "Switchboard-Original-Subject"
ORIGINAL_SEQUENCE = "Switchboard-Original-Sequence"
CONSUMER = "Switchboard-Consumer"


class Delivery:
    """One JetStream message of a batch."""

    __slots__ = ("raw", "_event")

    def __init__(self, raw: Msg):
        self.raw = raw
        self._event: CloudEvent | None = None

    def __repr__(self) -> str:
        return f"Delivery(subject={self.raw.subject!r})"

    @property
    def subject(self) -> str:
        return self.raw.subject

    @property
    def data(self) -> bytes:
        return self.raw.data

    @property
    def stream_seq(self) -> int:
        return self.raw.metadata.sequence.stream

    @property
    def num_delivered(self) -> int:
        return self.raw.metadata.num_delivered

    def dead_letter_id(self, durable: str) -> str:
        """The dead letter's `Nats-Msg-Id`: a repeat of the same failure is dropped as a duplicate."""
        return f"dlq:{durable}:{self.stream_seq}"

    def event(self) -> CloudEvent:
        """The CloudEvent inside (raises BadMessage when it is not one)."""
        if self._event is None:
            try:
                self._event = CloudEvent.from_json_bytes(self.raw.data)
            except (ValidationError, ValueError) as exc:
                raise BadMessage(f"not a CloudEvents JSON document: {exc}") from exc
        return self._event


class ReplayedDelivery(Delivery):
    """A dead letter an operator gave back (`sb.replay.<durable>`): it reads as the original message
    (its subject and stream sequence); acks, naks and the delivery count are the replay's own."""

    __slots__ = ("_subject", "_seq")

    def __init__(self, raw: Msg):
        super().__init__(raw)
        headers = raw.headers or {}
        self._subject = headers.get(ORIGINAL_SUBJECT) or raw.subject
        seq = headers.get(ORIGINAL_SEQUENCE, "")
        self._seq = int(seq) if seq.isdigit() else 0

    def __repr__(self) -> str:
        return f"ReplayedDelivery(subject={self._subject!r})"

    @property
    def subject(self) -> str:
        return self._subject

    @property
    def stream_seq(self) -> int:
        return self._seq

    def dead_letter_id(self, durable: str) -> str:  # failing again is a new dead letter, not a duplicate
        return f"dlq:{durable}:{self._seq}:replay:{self.raw.metadata.sequence.stream}"


class BadMessage(Exception):
    """A message that can never be processed: it goes to the dead-letter subject, not back to retry."""


@dataclass
class BatchOutcome:
    """What a handler reports: messages to dead-letter with their reasons, and messages it keeps
    to ack later itself; the rest are acked."""

    rejected: list[tuple[Delivery, str]] = field(default_factory=list)
    deferred: list[Delivery] = field(default_factory=list)

    def reject(self, delivery: Delivery, reason: str) -> None:
        self.rejected.append((delivery, reason))

    def defer(self, delivery: Delivery) -> None:
        """The handler keeps this message and will ack it itself later."""
        self.deferred.append(delivery)


BatchHandler = Callable[[list[Delivery]], Awaitable[BatchOutcome | None]]
DeadLetterHook = Callable[[Delivery, str], Awaitable[None]]


def consumer_config(spec: ConsumerSpec) -> ConsumerConfig:
    many = len(spec.filter_subjects) > 1
    return ConsumerConfig(
        durable_name=spec.durable,
        filter_subject=None if many else spec.filter_subjects[0],
        filter_subjects=spec.filter_subjects if many else None,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL, max_deliver=spec.max_deliver,
        ack_wait=spec.ack_wait_seconds, max_ack_pending=spec.max_ack_pending,
    )


class BatchConsumer:
    def __init__(self, js: BusJetStream, spec: ConsumerSpec, handler: BatchHandler, *,
                 batch_size: int = 256, fetch_timeout: float = 1.0, concurrency: int = 1,
                 linger: float = 0.0, on_dead_letter: DeadLetterHook | None = None):
        self.js = js
        self.spec = spec
        self.handler = handler
        self.batch_size = batch_size
        self.fetch_timeout = fetch_timeout
        # > 0: a batch that is not full waits up to this long for more (bigger batches, more latency)
        self.linger = linger
        self.on_dead_letter = on_dead_letter
        # concurrency 1 keeps stream order across batches (projections); more overlaps the I/O of
        # several batches where order between batches does not matter (send commands).
        self._slots = asyncio.Semaphore(concurrency)
        self._inflight: set[asyncio.Task] = set()
        self._task: asyncio.Task | None = None
        self._sub = None
        self._running = False

    async def start(self) -> None:
        """Create (or bind to) the durable consumer and start pulling."""
        # Create or update the durable consumer to the spec, then pull from it.
        await self.js.add_consumer(self.spec.stream, consumer_config(self.spec))
        sub = PullLoop(self.js.connection, self.spec.stream, self.spec.durable)
        await sub.start()
        self._sub = sub
        self._running = True
        self._task = asyncio.create_task(self._loop(sub), name=f"consumer-{self.spec.durable}")

    async def stop(self) -> None:
        self._running = False
        if self._inflight:  # let batches in progress finish (they ack what they processed)
            await asyncio.wait(self._inflight, timeout=10)
        if self._sub is not None:
            try:
                await self._sub.stop()
            except Exception:  # noqa: BLE001
                pass
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass

    async def _loop(self, sub) -> None:
        while self._running:
            try:
                msgs = await sub.fetch(self.batch_size, timeout=self.fetch_timeout, linger=self.linger)
            except (nats.errors.TimeoutError, TimeoutError):
                continue
            except (nats.errors.ConnectionClosedError, nats.errors.NoServersError,
                    nats.errors.ConnectionReconnectingError) as exc:
                log.warning("consumer lost NATS; retrying", consumer=self.spec.durable, error=repr(exc))
                await asyncio.sleep(1.0)
                continue
            except Exception as exc:  # noqa: BLE001 - keep consuming whatever happens
                log.warning("fetch failed", consumer=self.spec.durable, error=repr(exc))
                await asyncio.sleep(0.5)
                continue
            if msgs:
                await self._slots.acquire()
                task = asyncio.create_task(self.consume([Delivery(m) for m in msgs]))
                self._inflight.add(task)
                task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task) -> None:
        self._inflight.discard(task)
        self._slots.release()

    async def consume_replayed(self, deliveries: list[Delivery]) -> None:
        """Dead letters given back (`replays.py`): handled as a batch of this consumer's, in turn with
        its own batches (a consumer of concurrency 1 never runs two at once)."""
        async with self._slots:
            await self.consume(deliveries)

    async def consume(self, deliveries: list[Delivery]) -> None:
        # A fetch returns messages in stream order (redeliveries aside); handlers are idempotent.
        try:
            outcome = await self.handler(deliveries) or BatchOutcome()
        except Exception as exc:  # noqa: BLE001 - anything else is retried, then dead-lettered
            log.warning("batch failed; will retry", consumer=self.spec.durable, error=repr(exc),
                        size=len(deliveries))
            await self._retry_or_dead_letter(deliveries, repr(exc))
            return
        if not outcome.rejected and not outcome.deferred:
            await ack_many([d.raw for d in deliveries])
            return
        rejected = {id(d): reason for d, reason in outcome.rejected}
        deferred = {id(d) for d in outcome.deferred}
        for d in deliveries:
            if id(d) in rejected:
                await self.dead_letter(d, rejected[id(d)])
        await ack_many([d.raw for d in deliveries if id(d) not in deferred and id(d) not in rejected])

    async def _retry_or_dead_letter(self, deliveries: list[Delivery], reason: str) -> None:
        for d in deliveries:
            if 0 < self.spec.max_deliver <= d.num_delivered:
                await self.dead_letter(d, f"gave up after {d.num_delivered} deliveries: {reason}")
            else:
                await d.raw.nak(delay=min(0.5 * 2 ** d.num_delivered, 30.0))

    async def dead_letter(self, d: Delivery, reason: str) -> None:
        headers = {
            REASON: reason[:1000].replace("\r", " ").replace("\n", " "),
            ORIGINAL_SUBJECT: d.subject,
            ORIGINAL_SEQUENCE: str(d.stream_seq),
            CONSUMER: self.spec.durable,
            "Nats-Msg-Id": d.dead_letter_id(self.spec.durable),
        }
        await self.js.publish(self.spec.dead_letter_subject, d.data, headers=headers)
        try:
            ce = d.event()
            context = {"orgid": ce.orgid, "correlationid": ce.correlationid}
        except BadMessage:
            context = {}
        log.warning("dead-lettered", consumer=self.spec.durable, subject=d.subject, reason=reason[:300],
                    **context)
        if self.on_dead_letter is not None:
            try:
                await self.on_dead_letter(d, reason)
            except Exception as exc:  # noqa: BLE001
                log.error("dead-letter hook failed", error=repr(exc))
        await d.raw.ack()
