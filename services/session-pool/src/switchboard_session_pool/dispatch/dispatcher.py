"""Executing send commands: claim (dedupe), gate (a message that may not go now waits, un-acked,
without blocking others), send through the provider, publish the outcome, then ack. The dispatcher
composes the rooms: intake.py reads a batch, admission.py (with pool_choice.py, window_gate.py and
template_gate.py) says what may go, lanes.py sends, waiting.py holds what must wait, outcomes.py ends
each message."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from switchboard_contracts.message import StatusError
from switchboard_runtime.eventstore import call
from switchboard_runtime.logs import get_logger
from switchboard_runtime.messaging.acks import ack_many
from switchboard_runtime.messaging.consumer import BatchOutcome, Delivery
from switchboard_runtime.messaging.publisher import Publisher
from switchboard_runtime.tasks import keep_running

from ..application import SendersApp
from ..domain.health import SKIP_BELOW_SCORE, Health
from ..domain.outbound import OutboundMessage, SendResult
from ..domain.sender import Sender
from ..providers.router import ProviderRouter
from ..senders.directory import SenderDirectory
from ..statuses import accepted_event
from ..stores.campaign_holds import CANCELLED, CampaignHolds
from ..stores.outbound_messages import OutboundStore
from ..stores.quotas import SharedQuotas
from ..stores.service_window import ServiceWindow
from ..stores.template_holds import TemplateHolds
from .admission import Admission
from .intake import Intake, Read
from .lanes import SendLanes
from .outcomes import Outcomes, replay_events
from .pools import NO_SENDER, Pools
from .template_gate import TemplateGate
from .waiting import EXPIRED, Waiting, WaitingRoom, expired
from .window_gate import WindowGate

log = get_logger(__name__)

UNKNOWN_SENDER = StatusError(code="unknown_sender", title="Unknown sender",
                             detail="The sender does not exist in this organization.")
Pair = tuple[Delivery, OutboundMessage]
Failed = list[tuple[OutboundMessage, SendResult]]


class Dispatcher:
    def __init__(self, app: SendersApp, store: OutboundStore, provider: ProviderRouter,
                 publisher: Publisher, *, keepalive: float = 10.0,
                 quotas: SharedQuotas, senders: dict[str, Sender] | None = None, relay=None,
                 ttl_seconds: float = 4 * 3600, pair_interval: float = 6.0, pair_burst: int = 1,
                 window: ServiceWindow | None = None, holds: CampaignHolds | None = None,
                 template_holds: TemplateHolds | None = None):
        self.app, self.store, self.publisher, self.quotas = app, store, publisher, quotas
        self.senders: dict[str, Sender] = senders if senders is not None else {}
        self._holds_changed = False
        self.pools = Pools(SenderDirectory(app), self.senders, self.sender)  # messages sent to a pool of senders
        outside_window: dict[str, set[str]] = {}  # pool message → Meta senders it may not take
        self.outcomes = Outcomes(app, self.senders, store, publisher, self.pools, outside_window, relay)
        self.health = self.outcomes.health  # per sender, in this replica
        self.templates = TemplateGate(template_holds, self.senders, self.pools)  # Meta paused or disabled
        self.admission = Admission(self.senders, quotas, holds, self.pools, self.health, outside_window,
                                   pair_interval, pair_burst, self.templates)
        self.intake = Intake(self.sender, self.admission.choice, ttl_seconds)
        # Meta: free-form messages only inside the 24-hour window
        self.window_gate = WindowGate(window, self.senders, self.pools, outside_window) if window is not None else None
        self.room = WaitingRoom(keepalive)
        self.lanes = SendLanes(self.senders, provider, store, publisher, self.pools, self.room, self.outcomes)
        self._task: asyncio.Task | None = None

    # --- the consumer's batch handler ---------------------------------------------------------

    async def handle(self, deliveries: list[Delivery]) -> BatchOutcome:
        outcome = BatchOutcome()
        valid, no_sender = await self.intake.read(deliveries, outcome)
        fresh = await self.store.claim([m for _, m, _ in valid])
        repeats = [m.message_id for _, m, _ in valid if m.message_id not in fresh]
        known = await self.store.known(repeats) if repeats else {}
        done = {mid: row for mid, row in known.items() if row["state"] == "done"}
        # redelivered while waiting or sending: its message.accepted is stored, never published again
        announced = {mid for mid, row in known.items() if row["state"] != "done" and row["accepted_published"]}
        now_dt = datetime.now(UTC)
        replays, replayed, to_gate, pooled, failed = self._sort(valid, no_sender, done)
        if self.window_gate is not None:
            to_gate, pooled = await self.window_gate.apply(to_gate, pooled, failed, now_dt)
        await self._admit(to_gate + pooled, announced, replays, replayed, outcome, now_dt)
        if failed:
            await self.outcomes.finish(failed, accepted_at=now_dt, announced=announced)
        return outcome

    def _sort(self, valid: list[Read], no_sender: set[str],
              done: dict[str, dict]) -> tuple[list, list[str], list[Pair], list[Pair], Failed]:
        """Each message to its room: a finished one's events replayed, one that cannot go failed at
        once, a pool message (its sender still to choose) or a single-sender one to the gates."""
        replays, replayed, to_gate, pooled, failed = [], [], [], [], []
        of = self.pools.of
        hold = self.admission.hold
        for d, m, sender in valid:
            if m.message_id in done:  # a redelivery of a finished command: republish, never resend
                of.pop(m.message_id, None)
                replays.extend(replay_events(m, done[m.message_id]))
                replayed.append(m.message_id)
            elif m.message_id in no_sender:
                failed.append((m, SendResult(m.message_id, ok=False, error=NO_SENDER)))
            elif sender is None or sender.org_id != m.org_id:
                failed.append((m, SendResult(m.message_id, ok=False, error=UNKNOWN_SENDER)))
            elif hold(m) == "cancelled":
                failed.append((m, SendResult(m.message_id, ok=False, error=CANCELLED)))
            elif (disabled := self.templates.failure(m)) is not None:  # Meta disabled its template
                failed.append((m, SendResult(m.message_id, ok=False, error=disabled)))
            elif expired(m):
                failed.append((m, SendResult(m.message_id, ok=False, error=EXPIRED, expired=True)))
            elif m.message_id in of:
                pooled.append((d, m))
            else:
                to_gate.append((d, m))
        return replays, replayed, to_gate, pooled, failed

    async def _admit(self, items: list[Pair], announced: set[str], replays: list, replayed: list[str],
                     outcome: BatchOutcome, now_dt: datetime) -> None:
        """Admit the batch: what may go to the lanes, the rest to the waiting room. Waiting messages
        are visible as queued (accepted) at once; the others with their outcome. What is published is
        noted after its PubAck, before the acks: a redelivery, however late, publishes only what is
        not noted (JetStream's duplicate window is only minutes long)."""
        now = time.monotonic()
        admitted, later = await self.admission.admit([Waiting(0, 0, d, m, now, announced=m.message_id in announced)
                                                      for d, m in items])
        waiting = [w.message for w, _ in later if not w.announced]
        if replays or waiting:
            await self.publisher.publish_many(replays + [accepted_event(m, now_dt) for m in waiting])
            await self.store.published([m.message_id for m in waiting], replayed)
        for w, wait in later:
            w.announced = True
            outcome.defer(w.delivery)
            self.room.put(w, delay=wait)
        for w in admitted:  # acked by their lane once their outcome is recorded
            outcome.defer(w.delivery)
        self.lanes.spawn(admitted, accepted_at=now_dt)

    # --- waiting messages ---------------------------------------------------------------------

    async def run_waiting(self) -> None:
        while True:
            now = time.monotonic()
            due = self.room.take_due(now)
            if self._holds_changed:  # a campaign cancelled, a template disabled: its waiting messages end now
                self._holds_changed = False
                due.extend(self.room.take_if(lambda w: self._stopped(w.message) is not None))
            due = await self._end(due)
            try:
                if due and self.pools.of:  # label pools: senders labelled meanwhile count (rate-limited)
                    await self.pools.directory.refresh()
                ready, later = await self.admission.admit(due)
            except Exception as exc:  # noqa: BLE001 - the quota state is unreachable: look again soon
                log.warning("quota check failed", error=repr(exc))
                ready, later = [], [(w, 1.0) for w in due]
            for w, wait in later:
                self.room.put(w, delay=wait)
            if ready:
                self.lanes.spawn(ready)
            await self.room.keep_alive(now)
            await self.room.sleep(now)

    def _stopped(self, m: OutboundMessage) -> StatusError | None:
        """Why a waiting message can never go: its campaign cancelled, or its template disabled."""
        if self.admission.hold(m) == "cancelled":
            return CANCELLED
        return self.templates.failure(m)

    async def _end(self, due: list[Waiting]) -> list[Waiting]:
        """End the due messages whose campaign was cancelled, whose template was disabled or whose
        time-to-live ran out; the rest."""
        ended = []
        for w in due:
            if (stopped := self._stopped(w.message)) is not None:
                ended.append((w, SendResult(w.message.message_id, ok=False, error=stopped)))
            elif expired(w.message):
                ended.append((w, SendResult(w.message.message_id, ok=False, error=EXPIRED, expired=True)))
        if not ended:
            return due
        gone = {id(w) for w, _ in ended}
        rest = [w for w in due if id(w) not in gone]
        try:
            await self.outcomes.finish([(w.message, r) for w, r in ended])
            await ack_many([w.delivery.raw for w, _ in ended])
        except Exception as exc:  # noqa: BLE001 - un-acked: redelivered, and expired again then
            log.warning("expiring waiting messages failed", error=repr(exc))
        return rest

    def start(self) -> None:
        # the waiting loop must never stop: an unexpected error is logged and the loop goes on
        self._task = asyncio.create_task(keep_running("the waiting loop", self.run_waiting, log),
                                         name="dispatch-waiting")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        await self.lanes.drain(timeout=20)

    # --- dead letters, senders and holds --------------------------------------------------------

    async def on_dead_letter(self, d: Delivery, reason: str) -> None:
        """A command that cannot be processed still ends its message: publish `failed`."""
        await self.outcomes.dead_letter(d, reason)

    async def sender(self, sender_id: str) -> Sender | None:
        """A sender this replica acts on, loaded from the event store the first time."""
        sender = self.senders.get(sender_id)
        if sender is None:
            sender = await call(self.app.find, sender_id)
            if sender is not None:
                self.senders[sender_id] = sender
        return sender

    def sender_changed(self, sender: Sender) -> None:
        """A sender changed (here or in another replica): act on its new state and quotas."""
        sid = str(sender.id)
        before, health = self.senders.get(sid), self.health.get(sid)
        if before is not None and health is not None and not before.can_send() and sender.can_send():
            # resumed or reconnected: its failure streak ends and it is selectable again, on probation
            # (score at the threshold: the next failure takes it out of pool selection again)
            self.health[sid] = Health(score=max(health.score, SKIP_BELOW_SCORE), consecutive_failures=0)
        self.senders[sid] = sender
        self.admission.forget(sid)
        self.pools.directory.note(sender)
        self.room.wake()

    def holds_changed(self) -> None:
        """A campaign or template hold changed: end what it stops now, look again at what it held."""
        self._holds_changed = True
        self.room.wake()
