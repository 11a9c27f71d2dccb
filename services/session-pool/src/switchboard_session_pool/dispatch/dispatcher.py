"""Executing send commands: claim (dedupe), gate on the sender's quota (a message over quota waits,
un-acked, without blocking others), send through the provider, publish the outcome, then ack."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import json
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from pydantic import ValidationError

from switchboard_contracts.commands import SendMessage
from switchboard_contracts.content import summary
from switchboard_contracts.message import Status, StatusError
from switchboard_runtime.eventstore import call
from switchboard_runtime.logs import get_logger
from switchboard_runtime.messaging.acks import ack_many
from switchboard_runtime.messaging.consumer import BadMessage, BatchOutcome, Delivery
from switchboard_runtime.messaging.publisher import Publisher

from ..application import SendersApp
from ..domain.health import SKIP_BELOW_SCORE, Health
from ..domain.outbound import OutboundMessage, SendResult
from ..domain.pair_rate import PairRate
from ..domain.quota import QuotaLedger
from ..domain.sender import Sender
from ..metrics import AdmissionTimes
from ..providers.base import Provider
from ..senders.directory import SenderDirectory
from ..statuses import accepted_event, status_event
from ..stores.campaign_holds import CANCELLED, CampaignHolds
from ..stores.outbound_messages import OutboundStore
from ..stores.quotas import QuotaConflict, SharedQuotas
from ..stores.service_window import OUTSIDE_WINDOW, ServiceWindow
from .pools import NO_SENDER, Pools

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
    announced: bool = field(compare=False, default=False)  # its message.accepted is in the stream

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
                 window: ServiceWindow | None = None, holds: CampaignHolds | None = None):
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
        self.holds = holds  # campaigns paused or cancelled (their messages wait, or fail)
        self._holds_changed = False
        self.ledgers: dict[str, QuotaLedger] = {}
        self.health: dict[str, Health] = {}  # per sender, in this replica
        self.pairs = PairRate(pair_interval)  # in this replica (see ARCHITECTURE.md)
        self.pools = Pools(SenderDirectory(app), self.senders, self.sender)  # messages sent to a pool of senders
        self.outside_window: dict[str, set[str]] = {}  # pool message → Meta senders it may not take
        self.exhausted: dict[str, float] = {}  # sender → until when (monotonic) its quota is known spent
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
        no_sender: set[str] = set()  # pool messages whose pool names no sender of their organization
        for d in deliveries:
            try:
                ce = d.event()
                cmd = SendMessage.model_validate(ce.data)
            except (BadMessage, ValidationError) as exc:
                outcome.reject(d, f"invalid send command: {exc}")
                continue
            if cmd.pool is not None:  # its sender is chosen when it may go (_choose)
                valid.append(item := await self._pooled(d, ce, cmd))
                if item[2] is None:
                    no_sender.add(cmd.message_id)
                continue
            sender = await self.sender(cmd.sender_id)
            valid.append((d, self._outbound(ce, cmd, sender), sender))

        fresh = await self.store.claim([m for _, m, _ in valid])
        repeats = [m.message_id for _, m, _ in valid if m.message_id not in fresh]
        known = await self.store.known(repeats) if repeats else {}
        done = {mid: row for mid, row in known.items() if row["state"] == "done"}
        # redelivered while waiting or sending: its message.accepted is stored, never published again
        announced = {mid for mid, row in known.items() if row["state"] != "done" and row["accepted_published"]}
        now_dt = datetime.now(UTC)
        replays, replayed, to_gate, failed = [], [], [], []
        pooled: list[tuple[Delivery, OutboundMessage]] = []  # their sender is not chosen yet
        for d, m, sender in valid:
            if m.message_id in done:  # a redelivery of a finished command: republish, never resend
                self.pools.of.pop(m.message_id, None)
                replays.extend(self._replay(m, done[m.message_id]))
                replayed.append(m.message_id)
            elif m.message_id in no_sender:
                failed.append((m, SendResult(m.message_id, ok=False, error=NO_SENDER)))
            elif sender is None or sender.org_id != m.org_id:
                failed.append((m, SendResult(m.message_id, ok=False, error=UNKNOWN_SENDER)))
            elif self._hold(m) == "cancelled":
                failed.append((m, SendResult(m.message_id, ok=False, error=CANCELLED)))
            elif _expired(m):
                failed.append((m, SendResult(m.message_id, ok=False, error=EXPIRED, expired=True)))
            elif m.message_id in self.pools.of:
                pooled.append((d, m))
            else:
                to_gate.append((d, m))
        if self.window is not None:  # Meta: free-form messages only inside the 24-hour window
            meta = [(d, m) for d, m in to_gate if self.senders[m.sender_id].provider == "meta-cloud"
                    and m.type != "template"]  # templates may go at any time
            if meta:
                open_ = await self.window.open_for([(m.sender_id, m.to) for _, m in meta], now_dt)
                closed = {m.message_id for _, m in meta if (m.sender_id, m.to) not in open_}
                failed.extend((m, SendResult(m.message_id, ok=False, error=OUTSIDE_WINDOW))
                              for _, m in to_gate if m.message_id in closed)
                to_gate = [(d, m) for d, m in to_gate if m.message_id not in closed]
            pooled = await self._window_of_pool(pooled, failed, now_dt)

        waiting: list[OutboundMessage] = []
        now = time.monotonic()
        admitted, later = await self._admit([Waiting(0, 0, d, m, now, announced=m.message_id in announced)
                                             for d, m in to_gate + pooled])
        for w, _ in later:
            if not w.announced:
                waiting.append(w.message)
        # Waiting messages are visible as queued (accepted) at once; the others with their outcome.
        # What is published is noted after its PubAck, before the acks: a redelivery, however late,
        # publishes only what is not noted (JetStream's duplicate window is only minutes long).
        if replays or waiting:
            await self.publisher.publish_many(replays + [accepted_event(m, now_dt) for m in waiting])
            await self.store.published([m.message_id for m in waiting], replayed)
        for w, wait in later:
            w.announced = True
            outcome.defer(w.delivery)
            self._wait(w, delay=wait)
        for w in admitted:  # acked by their lane once their outcome is recorded
            outcome.defer(w.delivery)
        self._spawn_lanes(admitted, accepted_at=now_dt)
        if failed:
            await self._finish(failed, accepted_at=now_dt, announced=announced)
        return outcome

    def _spawn_lanes(self, items: list[Waiting], accepted_at: datetime | None = None) -> None:
        """Send in lanes that never wait for one another: one per sender for providers that talk to
        the network per sender (a hanging or slow sender holds only its own messages), one for the
        simulator's batch."""
        lanes: dict[str, list[Waiting]] = {}
        for w in items:
            sender = self.senders.get(w.message.sender_id)
            shared = sender is not None and not self.provider.own_lane(sender)
            key = "simulator" if shared else w.message.sender_id
            lanes.setdefault(key, []).append(w)
        for lane in lanes.values():
            task = asyncio.create_task(self._send_lane(lane, accepted_at))
            self._lanes.add(task)
            task.add_done_callback(self._lanes.discard)

    async def _send_lane(self, items: list[Waiting], accepted_at: datetime | None) -> None:
        """Send, record, publish, ack. Messages the provider asks us to bring back later wait (and
        are announced as queued if they were not yet); a failure leaves them un-acked: redelivered."""
        try:
            pooled = [w.message for w in items if w.message.message_id in self.pools.of]
            if pooled:  # the claim names the sender chosen from the pool (replays and stats use it)
                await self.store.assign(pooled)
            results = list(zip(items, await self.provider.send([w.message for w in items]), strict=True))
            again = [(w, r) for w, r in results if not r.final]
            for w, r in again:
                w.attempt += 1
                self._wait(w, r)
            unannounced = [w for w, _ in again if not w.announced] if accepted_at is not None else []
            if unannounced:
                await self.publisher.publish_many(accepted_event(w.message, accepted_at) for w in unannounced)
                await self.store.published([w.message.message_id for w in unannounced])
                for w in unannounced:
                    w.announced = True
            final = [(w, r) for w, r in results if r.final]
            if final:
                await self._finish([(w.message, r) for w, r in final], accepted_at=accepted_at,
                                   announced={w.message.message_id for w, _ in final if w.announced}, note=False)
            await self._react([(w.message, r) for w, r in results])  # health first: selection reads it
            if final:
                ids = [w.message.message_id for w, _ in final]
                await self.store.published(ids, ids)
            await ack_many([w.delivery.raw for w, _ in final])
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
            if self._holds_changed:  # a campaign was cancelled: its waiting messages end now, not when due
                self._holds_changed = False
                dropped = [w for w in self.waiting if self._hold(w.message) == "cancelled"]
                if dropped:
                    self.waiting = [w for w in self.waiting if self._hold(w.message) != "cancelled"]
                    heapq.heapify(self.waiting)
                    due.extend(dropped)
            ready = []
            ended = [(w, SendResult(w.message.message_id, ok=False, error=CANCELLED))
                     if self._hold(w.message) == "cancelled" else
                     (w, SendResult(w.message.message_id, ok=False, error=EXPIRED, expired=True))
                     for w in due if self._hold(w.message) == "cancelled" or _expired(w.message)]
            if ended:
                gone = {id(w) for w, _ in ended}
                due = [w for w in due if id(w) not in gone]
                try:
                    await self._finish([(w.message, r) for w, r in ended])
                    await ack_many([w.delivery.raw for w, _ in ended])
                except Exception as exc:  # noqa: BLE001 - un-acked: redelivered, and expired again then
                    log.warning("expiring waiting messages failed", error=repr(exc))
            try:
                if due and self.pools.of:  # label pools: senders labelled meanwhile count (rate-limited)
                    await self.pools.directory.refresh()
                ready, later = await self._admit(due)
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
        self._task = asyncio.create_task(self._keep_running(), name="dispatch-waiting")

    async def _keep_running(self) -> None:
        """The waiting loop must never stop: an unexpected error is logged and the loop goes on."""
        while True:
            try:
                await self.run_waiting()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001
                log.error("the waiting loop failed; restarting it", error=repr(exc), exc_info=exc)
                await asyncio.sleep(0.5)

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
                                sender_id=str(data.get("sender_id") or ""), sender_phone="",  # none: a pool
                                to=str(data.get("to", "")), text="", client_ref=data.get("client_ref"),
                                correlationid=raw.get("correlationid") or raw.get("id", ""),
                                causationid=raw.get("id", ""))
        except (ValueError, KeyError, TypeError):
            return  # nothing identifies a message: the dead letter alone records it
        error = StatusError(code="unprocessable_command", title="Command could not be processed",
                            detail=reason[:500])
        await self.publisher.publish(status_event(m, Status.FAILED, error=error))

    # --- helpers -------------------------------------------------------------------------------

    def holds_changed(self) -> None:
        self._holds_changed = True
        self._wake.set()

    def _hold(self, m: OutboundMessage) -> str | None:
        return self.holds.of(m.client_ref) if self.holds is not None else None

    def sender_changed(self, sender: Sender) -> None:
        """A sender changed (here or in another replica): act on its new state and quotas."""
        sid = str(sender.id)
        before, health = self.senders.get(sid), self.health.get(sid)
        if before is not None and health is not None and not before.can_send() and sender.can_send():
            # resumed or reconnected: its failure streak ends and it is selectable again, on probation
            # (score at the threshold: the next failure takes it out of pool selection again)
            self.health[sid] = Health(score=max(health.score, SKIP_BELOW_SCORE), consecutive_failures=0)
        self.senders[sid] = sender
        self.ledgers.pop(sid, None)
        self.exhausted.pop(sid, None)
        self.pools.directory.note(sender)
        self._wake.set()

    async def sender(self, sender_id: str) -> Sender | None:
        sender = self.senders.get(sender_id)
        if sender is None:
            sender = await call(self.app.find, sender_id)
            if sender is not None:
                self.senders[sender_id] = sender
        return sender

    async def _admit(self, items: list[Waiting]) -> tuple[list[Waiting], list[tuple[Waiting, float]]]:
        """Which messages may go now, each sender's quota checked once for all its messages (in
        order, against the state every replica shares); the others with how long they should wait. A
        paused or disconnected sender's messages wait until it sends again (or they expire). A pool
        message takes the first sender, in rotation order, that passes every gate (_choose)."""
        t0 = time.perf_counter()
        later: list[tuple[Waiting, float]] = []
        by_sender: dict[str, list[Waiting]] = {}
        now = time.monotonic()
        # pairs going in this batch, claimed at once: a batch admitted concurrently (the consumer
        # overlaps batches; the waiting loop runs beside it) sees them taken while our quota check awaits
        pending: dict[tuple[str, str], float | None] = {}
        pooled: list[Waiting] = []
        for w in items:
            m = w.message
            if self._hold(m) is not None:  # its campaign is paused (a cancelled one ends before this)
                later.append((w, min(_recheck_delay(m), 1.0)))
                continue
            if m.message_id in self.pools.of:
                pooled.append(w)
                continue
            sender = self.senders.get(m.sender_id)
            if sender is not None and not sender.can_send():
                later.append((w, _recheck_delay(m)))
            elif (m.sender_id, m.to) in pending:
                later.append((w, self.pairs.interval))
            elif wait := self.pairs.wait(m.sender_id, m.to, now):
                later.append((w, wait))
            else:
                pending[(m.sender_id, m.to)] = self.pairs.reserve(m.sender_id, m.to, now)
                by_sender.setdefault(m.sender_id, []).append(w)

        async def take(sender_id: str, group: list) -> tuple[int, float]:
            try:
                return await self.quotas.take(sender_id, self.ledger(sender_id), len(group))
            except QuotaConflict:
                return 0, 0.05

        ready: list[Waiting] = []
        while True:  # pool messages refused by their sender's quota try the next sender
            if pooled:
                self._choose(pooled, by_sender, pending, later, now)
            if not by_sender:
                break
            try:
                grants = await asyncio.gather(*(take(sid, group) for sid, group in by_sender.items()))
            except BaseException:  # nothing of this batch is admitted: its claims are undone
                for (sid, to), previous in pending.items():
                    self.pairs.release(sid, to, previous, now)
                raise
            pooled = []
            for (sid, group), (granted, wait) in zip(by_sender.items(), grants, strict=True):
                ready.extend(group[:granted])
                if granted < len(group):
                    self.exhausted[sid] = now + max(wait, 0.05)
                for w in group[granted:]:
                    self.pairs.release(sid, w.message.to, pending.pop((sid, w.message.to), None), now)
                    if w.message.message_id in self.pools.of:
                        pooled.append(w)
                    else:
                        later.append((w, max(wait, 0.05)))
            by_sender = {}
            if not pooled:
                break
        # the pairs of `ready` stay claimed: the claim is the record (recording again after the awaits
        # could overwrite a newer claim with this older time)
        self.admission.record(time.perf_counter() - t0, len(items))
        return ready, later

    def _choose(self, pooled: list[Waiting], by_sender: dict[str, list[Waiting]],
                pending: dict[tuple[str, str], float | None], later: list[tuple[Waiting, float]],
                now: float) -> None:
        """Give each pool message the first sender, in rotation order, that is usable (connected, not
        paused, healthy), has quota left as far as we know, and may message the recipient now; the
        messages no sender may take now wait (for the soonest of those limits)."""
        for w in pooled:
            m = w.message
            request = self.pools.of[m.message_id]
            candidates = self.pools.candidates(request)
            recipient = (m.org_id, m.to)

            closed = self.outside_window.get(m.message_id, ())

            def usable(sender_id: str, org_id: str = m.org_id, closed=closed) -> bool:
                return sender_id not in closed and self._usable(sender_id, org_id)

            def has_quota(sender_id: str) -> bool:
                return self.exhausted.get(sender_id, 0.0) <= now

            chosen, soonest = None, None
            sticky = self.pools.rotation.sticky_sender(recipient)
            for sender_id in self.pools.rotation.order(request.key, candidates, recipient, usable, has_quota):
                wait = self.pairs.interval if (sender_id, m.to) in pending else self.pairs.wait(sender_id, m.to, now)
                if not wait:
                    chosen = sender_id
                    break
                soonest = wait if soonest is None else min(soonest, wait)
                if sender_id == sticky:  # the recipient's own sender just wrote to it: wait for it,
                    break  # rather than have another number write to the same person at once
            if chosen is None:
                if soonest is None:  # every usable sender's quota is spent, or none is usable
                    soonest = min((self.exhausted[s] - now for s in candidates
                                   if self.exhausted.get(s, 0.0) > now and usable(s)), default=None)
                later.append((w, max(soonest, 0.05) if soonest is not None else _recheck_delay(m)))
                continue
            self.pools.rotation.chosen(request.key, candidates, recipient, chosen)
            pending[(chosen, m.to)] = self.pairs.reserve(chosen, m.to, now)
            w.message = self._assign(m, chosen)
            by_sender.setdefault(chosen, []).append(w)

    async def _window_of_pool(self, pooled: list, failed: list, now_dt: datetime) -> list:
        """A free-form pool message may not take a Meta sender outside that sender's 24-hour window
        with the recipient: such senders are left out of its candidates; with none left it fails."""
        meta = {m.message_id: [s for s in self.pools.candidates(self.pools.of[m.message_id])
                               if (sender := self.senders.get(s)) is not None and sender.provider == "meta-cloud"]
                for _, m in pooled if m.type != "template"}
        pairs = [(s, m.to) for _, m in pooled for s in meta.get(m.message_id, ())]
        if not pairs:
            return pooled
        open_ = await self.window.open_for(pairs, now_dt)
        keep = []
        for d, m in pooled:
            closed = {s for s in meta.get(m.message_id, ()) if (s, m.to) not in open_}
            if closed and closed >= set(self.pools.candidates(self.pools.of[m.message_id])):
                self.pools.of.pop(m.message_id, None)
                failed.append((m, SendResult(m.message_id, ok=False, error=OUTSIDE_WINDOW)))
                continue
            if closed:
                self.outside_window[m.message_id] = closed
            keep.append((d, m))
        return keep

    def _usable(self, sender_id: str, org_id: str) -> bool:
        """Whether selection may pick the sender now: its organization's, connected, not paused,
        and healthy (domain/health.py)."""
        sender = self.senders.get(sender_id)
        if sender is None or sender.org_id != org_id or not sender.can_send():
            return False
        health = self.health.get(sender_id)
        return health is None or health.selectable

    def _assign(self, m: OutboundMessage, sender_id: str) -> OutboundMessage:
        if m.sender_id == sender_id:
            return m
        sender = self.senders.get(sender_id)
        return replace(m, sender_id=sender_id, sender_phone=(sender.phone_number or "") if sender else "")

    async def _pooled(self, d: Delivery, ce, cmd: SendMessage) -> tuple[Delivery, OutboundMessage, Sender | None]:
        """A new pool message: its candidates loaded, and a provisional sender (the one it would take
        now; it is announced with it if it has to wait). Its sender is None when the pool names no
        sender of the organization."""
        request = await self.pools.resolve(ce.orgid, cmd.pool)
        m = self._outbound(ce, cmd, None)
        if request is None:
            self.pools.of.pop(cmd.message_id, None)
            return d, replace(m, sender_id=(cmd.pool.sender_ids or [""])[0]), None
        self.pools.of[cmd.message_id] = request
        candidates = self.pools.candidates(request)
        first = next(self.pools.rotation.order(request.key, candidates, (ce.orgid, cmd.to),
                                               lambda s: self._usable(s, ce.orgid)), None)
        if first is None:  # none usable now: the first that exists
            first = next((s for s in candidates if (s_ := self.senders.get(s)) is not None
                          and s_.org_id == ce.orgid and not s_.removed), candidates[0])
        return d, self._assign(m, first), self.senders.get(first)

    def ledger(self, sender_id: str) -> QuotaLedger:
        ledger = self.ledgers.get(sender_id)
        if ledger is None:
            sender = self.senders.get(sender_id)
            ledger = self.ledgers[sender_id] = QuotaLedger(
                sender.quotas if sender else {},
                sender.registered_at.timestamp() if sender and sender.registered_at else None)
        return ledger

    def _outbound(self, ce, cmd: SendMessage, sender: Sender | None) -> OutboundMessage:
        ttl = cmd.ttl_seconds or self.ttl_seconds

        def dump(content):
            return content.model_dump(mode="json", exclude_none=True) if content is not None else None

        return OutboundMessage(
            message_id=cmd.message_id, org_id=ce.orgid, sender_id=cmd.sender_id,
            sender_phone=(sender.phone_number or "") if sender else "", to=cmd.to,
            text=summary(cmd),  # a text message's text; a short summary of any other content
            client_ref=cmd.client_ref, correlationid=ce.correlationid, causationid=ce.id,
            traceparent=ce.traceparent, expires_at=cmd.requested_at.timestamp() + ttl,
            type=cmd.type, template=dump(cmd.template), media=dump(cmd.media),
            interactive=dump(cmd.interactive), reply_to=cmd.reply_to)

    async def _finish(self, outcomes: list[tuple[OutboundMessage, SendResult]], *,
                      accepted_at: datetime | None = None, announced: set[str] | frozenset = frozenset(),
                      note: bool = True) -> None:
        """Record the outcomes, then publish them (preceded by `message.accepted` when the message
        was not announced before: `accepted_at` given and not in `announced`), in one pipelined
        publish, then (`note`) note them published."""
        await self.store.record([r for _, r in outcomes if not r.recorded])
        now = datetime.now(UTC)
        events = []
        for m, r in outcomes:
            self.pools.of.pop(m.message_id, None)
            self.outside_window.pop(m.message_id, None)
            if accepted_at is not None and m.message_id not in announced:
                events.append(accepted_event(m, accepted_at))
            if r.ok:
                events.append(status_event(m, Status.SENT, now, provider_message_id=r.provider_message_id))
            elif r.expired:
                events.append(status_event(m, Status.EXPIRED, now, error=r.error))
            else:
                events.append(status_event(m, Status.FAILED, now, error=r.error))
        await self.publisher.publish_many(events)
        if note:
            ids = [m.message_id for m, _ in outcomes]
            await self.store.published(ids, ids)

    @staticmethod
    def _replay(m: OutboundMessage, row: dict) -> list:
        """The events of a finished message that are not noted as published (often none)."""
        now = datetime.now(UTC)
        if row.get("sender_id") and row["sender_id"] != m.sender_id:  # a pool message: its chosen sender
            m = replace(m, sender_id=row["sender_id"])
        final = Status(row["status"])
        error = StatusError(**row["error"]) if row.get("error") else None
        events = [] if row.get("accepted_published") else [accepted_event(m, row["created_at"])]
        if not row.get("outcome_published"):
            events.append(status_event(m, final, row["updated_at"] or now,
                                       provider_message_id=row.get("provider_message_id"), error=error))
        return events
