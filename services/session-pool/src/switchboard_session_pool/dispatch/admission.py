"""Admission: which messages may go now. The gates, in order: the message's campaign is not on hold,
nor its template in its Meta sender's account (template_gate.py), its sender can send (connected, not
paused), the pair rate (a token bucket per sender and recipient: domain/pair_rate.py; claimed before
the quota is awaited: the claim is the record), and the sender's quota —
shared by every replica, checked once per sender for all its messages. A pool message takes the first
sender that passes every gate (pool_choice.py); one its sender's quota refuses tries the next."""

from __future__ import annotations

import asyncio
import time

from ..domain.health import Health
from ..domain.outbound import OutboundMessage
from ..domain.pair_rate import Claim, PairRate
from ..domain.quota import QuotaLedger
from ..domain.sender import Sender
from ..metrics import AdmissionTimes
from ..stores.campaign_holds import CampaignHolds
from ..stores.quotas import QuotaConflict, SharedQuotas
from .pool_choice import PoolChoice
from .pools import Pools
from .template_gate import HELD_RECHECK_SECONDS, TemplateGate
from .waiting import Waiting, recheck_delay

Pending = dict[tuple[str, str], list[Claim]]  # (sender, recipient) → this batch's claims, oldest first
Later = list[tuple[Waiting, float]]  # messages that wait, with how long


class Admission:
    def __init__(self, senders: dict[str, Sender], quotas: SharedQuotas, holds: CampaignHolds | None,
                 pools: Pools, health: dict[str, Health], outside_window: dict[str, set[str]],
                 pair_interval: float = 6.0, pair_burst: int = 1, templates: TemplateGate | None = None):
        self.senders, self.quotas, self.pools = senders, quotas, pools
        self.holds = holds  # campaigns paused or cancelled (their messages wait, or fail)
        self.templates = templates  # templates Meta paused or disabled (their messages wait, or fail)
        self.pairs = PairRate(pair_interval, pair_burst)  # in this replica (see ARCHITECTURE.md)
        self.ledgers: dict[str, QuotaLedger] = {}
        self.exhausted: dict[str, float] = {}  # sender → until when (monotonic) its quota is known spent
        self.choice = PoolChoice(senders, pools, health, self.pairs, self.exhausted, outside_window, templates)
        self.times = AdmissionTimes()

    def hold(self, m: OutboundMessage) -> str | None:
        """"paused", "cancelled" or None: the hold on the message's campaign."""
        return self.holds.of(m.client_ref) if self.holds is not None else None

    def ledger(self, sender_id: str) -> QuotaLedger:
        ledger = self.ledgers.get(sender_id)
        if ledger is None:
            sender = self.senders.get(sender_id)
            ledger = self.ledgers[sender_id] = QuotaLedger(
                sender.quotas if sender else {},
                sender.registered_at.timestamp() if sender and sender.registered_at else None)
        return ledger

    def forget(self, sender_id: str) -> None:
        """The sender changed: its quotas are read again, and it may have room again."""
        self.ledgers.pop(sender_id, None)
        self.exhausted.pop(sender_id, None)

    async def admit(self, items: list[Waiting]) -> tuple[list[Waiting], Later]:
        """Which messages may go now, each sender's quota checked once for all its messages (in
        order, against the state every replica shares); the others with how long they should wait. A
        paused or disconnected sender's messages wait until it sends again (or they expire)."""
        t0 = time.perf_counter()
        later: Later = []
        now = time.monotonic()
        # pairs going in this batch, claimed at once: a batch admitted concurrently (the consumer
        # overlaps batches; the waiting loop runs beside it) sees them taken while our quota check awaits
        pending: Pending = {}
        by_sender, pooled = self._gate(items, pending, later, now)
        ready: list[Waiting] = []
        while True:  # pool messages refused by their sender's quota try the next sender
            if pooled:
                self.choice.choose(pooled, by_sender, pending, later, now)
            if not by_sender:
                break
            grants = await self._take_all(by_sender, pending)
            pooled = self._settle(by_sender, grants, pending, ready, later, now)
            by_sender = {}
            if not pooled:
                break
        # the pairs of `ready` stay claimed: the claim is the record (recording again after the awaits
        # could overwrite a newer claim with this older time)
        self.times.record(time.perf_counter() - t0, len(items))
        return ready, later

    def _gate(self, items: list[Waiting], pending: Pending, later: Later,
              now: float) -> tuple[dict[str, list[Waiting]], list[Waiting]]:
        """The messages that pass the hold, sender and pair-rate gates, by sender (their pairs claimed);
        the pool messages, whose sender is still to choose. The others go to `later`."""
        by_sender: dict[str, list[Waiting]] = {}
        pooled: list[Waiting] = []
        for w in items:
            m = w.message
            if self.hold(m) is not None:  # its campaign is paused (a cancelled one ends before this)
                later.append((w, min(recheck_delay(m), 1.0)))
                continue
            if self.templates is not None and self.templates.paused(m):  # held by Meta (a disabled one then ends)
                later.append((w, min(recheck_delay(m), HELD_RECHECK_SECONDS)))
                continue
            if m.message_id in self.pools.of:
                pooled.append(w)
                continue
            sender = self.senders.get(m.sender_id)
            if sender is not None and not sender.can_send():
                later.append((w, recheck_delay(m)))
            elif wait := self.pairs.wait(m.sender_id, m.to, now):  # this batch's claims count too
                later.append((w, wait))
            else:
                pending.setdefault((m.sender_id, m.to), []).append(self.pairs.reserve(m.sender_id, m.to, now))
                by_sender.setdefault(m.sender_id, []).append(w)
        return by_sender, pooled

    async def _take(self, sender_id: str, group: list[Waiting]) -> tuple[int, float]:
        try:
            return await self.quotas.take(sender_id, self.ledger(sender_id), len(group))
        except QuotaConflict:
            return 0, 0.05

    async def _take_all(self, by_sender: dict[str, list[Waiting]], pending: Pending) -> list[tuple[int, float]]:
        """Every sender's quota at once: (granted, seconds until more may go) per sender."""
        try:
            return await asyncio.gather(*(self._take(sid, group) for sid, group in by_sender.items()))
        except BaseException:  # nothing of this batch is admitted: its claims are undone
            for (sid, to), claims in pending.items():
                for claim in reversed(claims):
                    self.pairs.release(sid, to, claim)
            raise

    def _settle(self, by_sender: dict[str, list[Waiting]], grants: list[tuple[int, float]], pending: Pending,
                ready: list[Waiting], later: Later, now: float) -> list[Waiting]:
        """What each sender's quota granted goes (`ready`); the rest gives its pair claim back and waits,
        or, a pool message, is returned to try the next sender."""
        pooled: list[Waiting] = []
        for (sid, group), (granted, wait) in zip(by_sender.items(), grants, strict=True):
            ready.extend(group[:granted])
            if granted < len(group):
                self.exhausted[sid] = now + max(wait, 0.05)
            for w in reversed(group[granted:]):  # newest claim first: each is undone exactly
                claims = pending.get((sid, w.message.to))
                self.pairs.release(sid, w.message.to, claims.pop() if claims else None)
            for w in group[granted:]:
                if w.message.message_id in self.pools.of:
                    pooled.append(w)
                else:
                    later.append((w, max(wait, 0.05)))
        return pooled
