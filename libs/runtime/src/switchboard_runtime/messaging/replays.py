"""Giving dead letters back to the one consumer that could not process them, once the cause is fixed.

A dead letter is never republished on its original subject: that would hand a public event a second
time to every consumer (and to customers' webhooks). `give_back` publishes it on
`sb.replay.<durable>` in SWITCHBOARD_REPLAYS (a work queue), with the original subject and sequence
in its headers, then deletes it from SWITCHBOARD_DEAD_LETTERS, so that what is left there is what is
still to do. Each service process reads the replays of all its consumers with one more durable
consumer, `<service>__replays` (filtered on its consumers' `sb.replay.<durable>`), and hands each to
the handler of its consumer as a batch of that consumer (`BatchConsumer.consume_replayed`): the
handler sees the original subject and stream sequence; a failure is retried and dead-lettered again,
with the new reason, as any other."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import nats.errors
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from switchboard_contracts import streams as specs
from switchboard_contracts import subjects

from ..logs import get_logger
from .bus import BusJetStream
from .consumer import CONSUMER, ORIGINAL_SEQUENCE, ORIGINAL_SUBJECT, REASON, BatchConsumer, ReplayedDelivery
from .declare import ensure_stream
from .pull import PullLoop

log = get_logger(__name__)

DEAD_LETTER_SEQUENCE = "Switchboard-Dead-Letter-Sequence"
PREVIOUS_REASON = "Switchboard-Previous-Reason"


def replays_durable(service: str) -> str:
    return f"{service.replace('-', '_').replace('.', '_')}__replays"


class ReplayConsumer:
    """One per service process: the replays of every consumer of the service, each handed to it."""

    def __init__(self, js: BusJetStream, service: str, consumers: list[BatchConsumer], *,
                 batch_size: int = 64, fetch_timeout: float = 1.0):
        self.js, self.batch_size, self.fetch_timeout = js, batch_size, fetch_timeout
        self.durable = replays_durable(service)
        self.consumers = {c.spec.durable: c for c in consumers}
        self._sub: PullLoop | None = None
        self._task: asyncio.Task | None = None
        self._running = False

    def config(self) -> ConsumerConfig:
        filters = sorted(subjects.replay_subject(d) for d in self.consumers)
        many = len(filters) > 1
        return ConsumerConfig(
            durable_name=self.durable, filter_subject=None if many else filters[0],
            filter_subjects=filters if many else None, ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL, max_deliver=-1,  # each consumer's own max_deliver decides
            ack_wait=max(c.spec.ack_wait_seconds for c in self.consumers.values()), max_ack_pending=1_000)

    async def start(self) -> None:
        await ensure_stream(self.js, specs.REPLAYS)
        await self.js.add_consumer(specs.REPLAYS.name, self.config())
        self._sub = PullLoop(self.js.connection, specs.REPLAYS.name, self.durable)
        await self._sub.start()
        self._running = True
        self._task = asyncio.create_task(self._loop(), name=f"consumer-{self.durable}")

    async def stop(self) -> None:
        self._running = False
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._sub is not None:
            try:
                await self._sub.stop()
            except Exception:  # noqa: BLE001
                pass

    async def _loop(self) -> None:
        assert self._sub is not None
        while self._running:
            try:
                msgs = await self._sub.fetch(self.batch_size, timeout=self.fetch_timeout)
            except (nats.errors.TimeoutError, TimeoutError):
                continue
            except Exception as exc:  # noqa: BLE001 - keep consuming whatever happens
                log.warning("replay fetch failed", consumer=self.durable, error=repr(exc))
                await asyncio.sleep(1.0)
                continue
            try:
                await self.hand_over(msgs)
            except Exception as exc:  # noqa: BLE001 - unacked, they come again after ack_wait
                log.warning("replay failed", consumer=self.durable, error=repr(exc))

    async def hand_over(self, msgs: list[Msg]) -> None:
        """Runs of replays for the same consumer, in order, each as one batch of that consumer."""
        run: list[ReplayedDelivery] = []
        target: BatchConsumer | None = None
        for msg in msgs:
            consumer = self.consumers.get(msg.subject.removeprefix("sb.replay."))
            if consumer is None:  # not this service's (its consumers changed): leave it for later
                await msg.nak(delay=60.0)
                continue
            if consumer is not target and run:
                await target.consume_replayed(run)  # type: ignore[union-attr]
                run = []
            target = consumer
            run.append(ReplayedDelivery(msg))
        if run and target is not None:
            await target.consume_replayed(run)


@dataclass
class DeadLetter:
    sequence: int  # in SWITCHBOARD_DEAD_LETTERS
    consumer: str
    reason: str
    original_subject: str
    original_sequence: int | None
    time: object  # datetime the dead letter was stored
    data: bytes


def dead_letter_of(sequence: int, subject: str, time, data: bytes, headers: dict[str, str] | None) -> DeadLetter:
    h = headers or {}
    seq = h.get(ORIGINAL_SEQUENCE, "")
    return DeadLetter(sequence, h.get(CONSUMER) or subject.removeprefix("sb.dlq."), h.get(REASON, ""),
                      h.get(ORIGINAL_SUBJECT, ""), int(seq) if seq.isdigit() else None, time, data)


async def give_back(js: BusJetStream, letter: DeadLetter) -> None:
    """Hand one dead letter to its consumer's replay subject (acknowledged), then delete it from the
    dead letters. Its `Nats-Msg-Id` names the dead letter: giving it back twice within the duplicate
    window (a crash between the two steps, a repeated command) stores it once."""
    headers = {ORIGINAL_SUBJECT: letter.original_subject, ORIGINAL_SEQUENCE: str(letter.original_sequence or 0),
               CONSUMER: letter.consumer, DEAD_LETTER_SEQUENCE: str(letter.sequence),
               PREVIOUS_REASON: letter.reason[:1000], "Nats-Msg-Id": f"replay:{letter.consumer}:{letter.sequence}"}
    await js.publish(subjects.replay_subject(letter.consumer), letter.data, headers=headers)
    try:
        await js.delete_msg(specs.DEAD_LETTERS.name, letter.sequence)
    except NotFoundError:
        pass  # deleted already (given back before)


async def ensure_replays(js: BusJetStream) -> None:
    await ensure_stream(js, specs.REPLAYS)
