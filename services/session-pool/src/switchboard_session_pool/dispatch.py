"""Executing send commands: claim (dedupe), gate on the sender's quota (a message over quota waits,
un-acked, without blocking others), send through the provider, publish the outcome, then ack."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any
from datetime import UTC, datetime

from pydantic import ValidationError

from switchboard_contracts.commands import SendMessage
from switchboard_contracts.message import Status, StatusError
from switchboard_runtime.eventstore import call
from switchboard_runtime.logs import get_logger
from switchboard_runtime.messaging.consumer import BadMessage, BatchOutcome, Delivery
from switchboard_runtime.messaging.publisher import Publisher

from .application import SendersApp
from .domain.health import Health
from .domain.pair_rate import PairRate
from .domain.quota import QuotaLedger
from .domain.sender import Sender
from .metrics import AdmissionTimes
from .outbound_store import OutboundStore
from .quota_store import QuotaConflict, SharedQuotas
from .service_window import OUTSIDE_WINDOW, ServiceWindow
from .providers.base import OutboundMessage, Provider, SendResult
from .statuses import accepted_event, status_event

log = get_logger(__name__)

UNKNOWN_SENDER = StatusError(code="unknown_sender", title="Unknown sender",
                             detail="The sender does not exist in this organization.")
EXPIRED = StatusError(code="expired", title="Expired",
                      detail="The message could not be sent within its time-to-live.")


@dataclass(order=True)
class Waiting:
    due: float
    seq: int
    delivery: Delivery = field(compare=False)
    message: OutboundMessage = field(compare=False)
    touched: float = field(compare=False, default=0.0)
    attempt: int = field(compare=False, default=0)  # provider attempts that asked us to come back

SENDER_RECHECK_SECONDS = 5.0  # a message of a paused or disconnected sender looks again this often


def _expired(m: OutboundMessage) -> bool:
    return m.expires_at is not None and time.time() >= m.expires_at


def _recheck_delay(m: OutboundMessage) -> float:
    """When to look again at a message whose sender cannot send now (no later than its expiry)."""
    if m.expires_at is None:
        return SENDER_RECHECK_SECONDS
    return max(min(SENDER_RECHECK_SECONDS, m.expires_at - time.time()), 0.05)


class Dispatcher:
    def __init__(self, app: SendersApp, store: OutboundStore, provider: Provider,
                 publisher: Publisher, *, keepalive: float = 10.0,
                 quotas: SharedQuotas, senders: dict[str, Sender] | None = None, relay=None,
                 ttl_seconds: float = 4 * 3600, pair_interval: float = 6.0,
                 window: ServiceWindow | None = None):
        self.app = app
        self.store = store
        self.provider = provider
        self.publisher = publisher
        self.keepalive = keepalive
        self.quotas = quotas
        self.senders: dict[str, Sender] = senders if senders is not None else {}
        self.relay = relay  # woken when the dispatcher changes a sender (automatic pause)
        self.ttl_seconds = ttl_seconds
        self.window = window
        self.ledgers: dict[str, QuotaLedger] = {}
        self.health: dict[str, Health] = {}  # per sender, in this replica
        self.pairs = PairRate(pair_interval)  # in this replica (see ARCHITECTURE.md)
        self.admission = AdmissionTimes()
        self._lanes: set[asyncio.Task] = set()
        self.waiting: list[Waiting] = []
        self._seq = itertools.count()
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None

    # --- the consumer's batch handler ---------------------------------------------------------

    async def handle(self, deliveries: list[Delivery]) -> BatchOutcome:
        outcome = BatchOutcome()
        valid: list[tuple[Delivery, OutboundMessage, Sender | None]] = []
        for d in deliveries:
            try:
                ce = d.event()
                cmd = SendMessage.model_validate(ce.data)
            except (BadMessage, ValidationError) as exc:
                outcome.reject(d, f"invalid send command: {exc}")
                continue
            sender = await self.sender(cmd.sender_id)
            valid.append((d, self._outbound(ce, cmd, sender), sender))

        fresh = await self.store.claim([m for _, m, _ in valid])
        repeats = [m.message_id for _, m, _ in valid if m.message_id not in fresh]
        done = await self.store.finished(repeats) if repeats else {}
        now_dt = datetime.now(UTC)
        replays, to_gate, failed = [], [], []
        for d, m, sender in valid:
            if m.message_id in done:  # a redelivery of a finished command: republish, never resend
                replays.extend(self._replay(m, done[m.message_id]))
            elif sender is None or sender.org_id != m.org_id:
                failed.append((m, SendResult(m.message_id, ok=False, error=UNKNOWN_SENDER)))
            elif _expired(m):
                failed.append((m, SendResult(m.message_id, ok=False, error=EXPIRED, expired=True)))
            else:
                to_gate.append((d, m))
        if self.window is not None:  # Meta: free-form messages only inside the 24-hour window
            meta = [(d, m) for d, m in to_gate if self.senders[m.sender_id].provider == "meta-cloud"]
            if meta:
                open_ = await self.window.open_for([(m.sender_id, m.to) for _, m in meta], now_dt)
                closed = {m.message_id for _, m in meta if (m.sender_id, m.to) not in open_}
                failed.extend((m, SendResult(m.message_id, ok=False, error=OUTSIDE_WINDOW))
                              for _, m in to_gate if m.message_id in closed)
                to_gate = [(d, m) for d, m in to_gate if m.message_id not in closed]

        waiting: list[OutboundMessage] = []
        now = time.monotonic()
        admitted, later = await self._admit(to_gate, lambda item: item[1])
        for (d, m), wait in later:
            waiting.append(m)
            outcome.defer(d)
            heapq.heappush(self.waiting, Waiting(now + wait, next(self._seq), d, m, now))
            self._wake.set()
        # Waiting messages are visible as queued (accepted) at once; the others with their outcome.
        if replays or waiting:
            await self.publisher.publish_many(replays + [accepted_event(m, now_dt) for m in waiting])
        for d, _ in admitted:  # acked by their lane once their outcome is recorded
            outcome.defer(d)
        self._spawn_lanes([Waiting(0, 0, d, m, now) for d, m in admitted], accepted_at=now_dt)
        if failed:
            await self._finish(failed, accepted_at=now_dt)
        return outcome

    def _spawn_lanes(self, items: list[Waiting], accepted_at: datetime | None = None) -> None:
        """Send in lanes that never wait for one another: one per sender for providers that talk to
        the network per sender (a hanging or slow sender holds only its own messages), one for the
        simulator's batch."""
        lanes: dict[str, list[Waiting]] = {}
        for w in items:
            sender = self.senders.get(w.message.sender_id)
            key = "simulator" if sender is not None and sender.provider == "simulator" else w.message.sender_id
            lanes.setdefault(key, []).append(w)
        for lane in lanes.values():
            task = asyncio.create_task(self._send_lane(lane, accepted_at))
            self._lanes.add(task)
            task.add_done_callback(self._lanes.discard)

    async def _send_lane(self, items: list[Waiting], accepted_at: datetime | None) -> None:
        """Send, record, publish, ack. Messages the provider asks us to bring back later wait (and
        are announced as queued if they were not yet); a failure leaves them un-acked: redelivered."""
        try:
            results = list(zip(items, await self.provider.send([w.message for w in items]), strict=True))
            again = [(w, r) for w, r in results if not r.final]
            for w, r in again:
                w.attempt += 1
                self._wait(w, r)
            if again and accepted_at is not None:
                await self.publisher.publish_many(accepted_event(w.message, accepted_at) for w, _ in again)
            final = [(w, r) for w, r in results if r.final]
            if final:
                await self._finish([(w.message, r) for w, r in final], accepted_at=accepted_at)
            await self._react([(w.message, r) for w, r in results])
            for w, _ in final:
                await w.delivery.raw.ack()
        except Exception as exc:  # noqa: BLE001 - un-acked: JetStream redelivers them
            log.warning("sending failed; the commands will be redelivered", error=repr(exc))

    def _wait(self, w: Waiting, result: SendResult | None = None, delay: float | None = None) -> None:
        now = time.monotonic()
        w.due = now + (delay if delay is not None else max(result.delay if result else 0.0, 0.05))
        w.seq = next(self._seq)
        heapq.heappush(self.waiting, w)
        self._wake.set()

    async def _react(self, results: list[tuple[OutboundMessage, SendResult]]) -> None:
        """Keep each sender's health; pause a sender the provider flagged (spam, account locked,
        blocked) or that failed 10 times in a row, with the reason."""
        for m, r in results:
            health = self.health.setdefault(m.sender_id, Health())
            health.record(r.ok)
            sender = self.senders.get(m.sender_id)
            if sender is None or sender.paused is not None:
                continue
            if r.retry == "pause_sender":
                reason = f"{r.error.title} ({r.error.code})" if r.error else "paused by the provider"
                await self._pause(m, reason, r.error.code if r.error else None)
            elif health.should_pause:
                await self._pause(m, f"{health.consecutive_failures} consecutive failures", None)

    async def _pause(self, m: OutboundMessage, reason: str, code) -> None:
        paused = await call(self.app.pause, m.org_id, m.sender_id, reason, automatic=True, code=code)
        if paused is not None:
            self.senders[m.sender_id] = paused
            log.warning("sender paused automatically", sender_id=m.sender_id, reason=reason)
            if self.relay is not None:
                self.relay.wake()

    # --- waiting messages ---------------------------------------------------------------------

    async def run_waiting(self) -> None:
        while True:
            self._wake.clear()
            now = time.monotonic()
            due: list[Waiting] = []
            while self.waiting and self.waiting[0].due <= now:
                due.append(heapq.heappop(self.waiting))
            ready = []
            expired = [w for w in due if _expired(w.message)]
            due = [w for w in due if not _expired(w.message)]
            if expired:
                try:
                    await self._finish([(w.message, SendResult(w.message.message_id, ok=False, error=EXPIRED,
                                                               expired=True)) for w in expired])
                    for w in expired:
                        await w.delivery.raw.ack()
                except Exception as exc:  # noqa: BLE001 - un-acked: redelivered, and expired again then
                    log.warning("expiring waiting messages failed", error=repr(exc))
            try:
                ready, later = await self._admit(due, lambda w: w.message)
            except Exception as exc:  # noqa: BLE001 - the quota state is unreachable: look again soon
                log.warning("quota check failed", error=repr(exc))
                ready, later = [], [(w, 1.0) for w in due]
            for w, wait in later:
                self._wait(w, delay=wait)
            if ready:
                self._spawn_lanes(ready)
            for w in self.waiting:  # keep held commands from being redelivered meanwhile
                if now - w.touched >= self.keepalive:
                    w.touched = now
                    await w.delivery.raw.in_progress()
            timeout = min([self.waiting[0].due - now] if self.waiting else [1.0])
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=max(min(timeout, 1.0), 0.005))
            except TimeoutError:
                pass

    def start(self) -> None:
        self._task = asyncio.create_task(self.run_waiting(), name="dispatch-waiting")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        if self._lanes:  # let sends in flight finish and be recorded (their providers time out)
            await asyncio.wait(set(self._lanes), timeout=20)

    # --- dead letters --------------------------------------------------------------------------

    async def on_dead_letter(self, d: Delivery, reason: str) -> None:
        """A command that cannot be processed still ends its message: publish `failed`."""
        try:
            raw = json.loads(d.data)
            data = raw["data"]
            m = OutboundMessage(message_id=str(data["message_id"]), org_id=str(raw["orgid"]),
                                sender_id=str(data.get("sender_id", "")), sender_phone="",
                                to=str(data.get("to", "")), text="", client_ref=data.get("client_ref"),
                                correlationid=raw.get("correlationid") or raw.get("id", ""),
                                causationid=raw.get("id", ""))
        except (ValueError, KeyError, TypeError):
            return  # nothing identifies a message: the dead letter alone records it
        error = StatusError(code="unprocessable_command", title="Command could not be processed",
                            detail=reason[:500])
        await self.publisher.publish(status_event(m, Status.FAILED, error=error))

    # --- helpers -------------------------------------------------------------------------------

    async def sender(self, sender_id: str) -> Sender | None:
        sender = self.senders.get(sender_id)
        if sender is None:
            sender = await call(self.app.find, sender_id)
            if sender is not None:
                self.senders[sender_id] = sender
        return sender

    async def _admit(self, items: list, message_of) -> tuple[list, list[tuple[Any, float]]]:
        """Which items may go now, each sender's quota checked once for all its items (in order,
        against the state every replica shares); the others with how long they should wait. A
        paused or disconnected sender's messages wait until it sends again (or they expire)."""
        t0 = time.perf_counter()
        later: list[tuple[Any, float]] = []
        by_sender: dict[str, list] = {}
        now = time.monotonic()
        pending: set[tuple[str, str]] = set()  # pairs already going in this batch
        for item in items:
            m = message_of(item)
            sender = self.senders.get(m.sender_id)
            if sender is not None and not sender.can_send():
                later.append((item, _recheck_delay(m)))
            elif (m.sender_id, m.to) in pending:
                later.append((item, self.pairs.interval))
            elif wait := self.pairs.wait(m.sender_id, m.to, now):
                later.append((item, wait))
            else:
                pending.add((m.sender_id, m.to))
                by_sender.setdefault(m.sender_id, []).append(item)

        async def take(sender_id: str, group: list) -> tuple[int, float]:
            try:
                return await self.quotas.take(sender_id, self._ledger(sender_id), len(group))
            except QuotaConflict:
                return 0, 0.05

        grants = await asyncio.gather(*(take(sid, group) for sid, group in by_sender.items()))
        ready = []
        for group, (granted, wait) in zip(by_sender.values(), grants, strict=True):
            ready.extend(group[:granted])
            later.extend((item, max(wait, 0.05)) for item in group[granted:])
        for item in ready:
            m = message_of(item)
            self.pairs.record(m.sender_id, m.to, now)
        self.admission.record(time.perf_counter() - t0, len(items))
        return ready, later

    def _ledger(self, sender_id: str) -> QuotaLedger:
        ledger = self.ledgers.get(sender_id)
        if ledger is None:
            sender = self.senders.get(sender_id)
            ledger = self.ledgers[sender_id] = QuotaLedger(
                sender.quotas if sender else {},
                sender.registered_at.timestamp() if sender and sender.registered_at else None)
        return ledger

    def _outbound(self, ce, cmd: SendMessage, sender: Sender | None) -> OutboundMessage:
        ttl = cmd.ttl_seconds or self.ttl_seconds
        return OutboundMessage(
            message_id=cmd.message_id, org_id=ce.orgid, sender_id=cmd.sender_id,
            sender_phone=(sender.phone_number or "") if sender else "", to=cmd.to, text=cmd.text,
            client_ref=cmd.client_ref, correlationid=ce.correlationid, causationid=ce.id,
            traceparent=ce.traceparent, expires_at=cmd.requested_at.timestamp() + ttl)

    async def _finish(self, outcomes: list[tuple[OutboundMessage, SendResult]], *,
                      accepted_at: datetime | None = None) -> None:
        """Record the outcomes, then publish them (preceded by `message.accepted` when the message
        was not announced before), in one pipelined publish."""
        await self.store.record([r for _, r in outcomes if not r.recorded])
        now = datetime.now(UTC)
        events = []
        for m, r in outcomes:
            if accepted_at is not None:
                events.append(accepted_event(m, accepted_at))
            if r.ok:
                events.append(status_event(m, Status.SENT, now, provider_message_id=r.provider_message_id))
            elif r.expired:
                events.append(status_event(m, Status.EXPIRED, now, error=r.error))
            else:
                events.append(status_event(m, Status.FAILED, now, error=r.error))
        await self.publisher.publish_many(events)

    @staticmethod
    def _replay(m: OutboundMessage, row: dict) -> list:
        now = datetime.now(UTC)
        final = Status(row["status"])
        error = StatusError(**row["error"]) if row.get("error") else None
        return [accepted_event(m, row["created_at"]),
                status_event(m, final, row["updated_at"] or now,
                             provider_message_id=row.get("provider_message_id"), error=error)]
