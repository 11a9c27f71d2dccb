"""Choosing the sender of a pool message: its candidates ordered by the rotation (the recipient's
sticky sender first while it is usable, then round-robin from the pool's cursor), and the first that
is usable (connected, not paused, healthy), not known to be out of quota, outside no 24-hour window
with the recipient, not holding the message's template in its account (template_gate.py), and free of
the pair rate. A provisional sender names the message while it waits."""

from __future__ import annotations

from switchboard_contracts.commands import SenderPool
from switchboard_runtime.messaging.consumer import Delivery

from ..domain.health import Health
from ..domain.outbound import OutboundMessage
from ..domain.pair_rate import Claim, PairRate
from ..domain.sender import Sender
from .pools import Pools
from .template_gate import HELD_RECHECK_SECONDS, TemplateGate
from .waiting import Waiting, recheck_delay


class PoolChoice:
    def __init__(self, senders: dict[str, Sender], pools: Pools, health: dict[str, Health], pairs: PairRate,
                 exhausted: dict[str, float], outside_window: dict[str, set[str]],
                 templates: TemplateGate | None = None):
        self.senders, self.pools, self.health, self.pairs = senders, pools, health, pairs
        self.templates = templates  # a sender whose account holds the message's template is skipped
        self.exhausted = exhausted  # sender → until when (monotonic) its quota is known spent
        self.outside_window = outside_window  # pool message → Meta senders it may not take

    async def provisional(self, d: Delivery, m: OutboundMessage,
                          pool: SenderPool) -> tuple[Delivery, OutboundMessage, Sender | None]:
        """A new pool message: its candidates loaded, and a provisional sender (the one it would take
        now; it is announced with it if it has to wait). Its sender is None when the pool names no
        sender of the organization."""
        request = await self.pools.resolve(m.org_id, pool)
        if request is None:
            self.pools.of.pop(m.message_id, None)
            return d, m.from_sender((pool.sender_ids or [""])[0], m.sender_phone), None
        self.pools.of[m.message_id] = request
        candidates = self.pools.candidates(request)
        first = next(self.pools.rotation.order(request.key, candidates, (m.org_id, m.to),
                                               lambda s: self.usable(s, m.org_id) and not self.held(m, s)), None)
        if first is None:  # none usable now: the first that exists
            first = next((s for s in candidates if (s_ := self.senders.get(s)) is not None
                          and s_.org_id == m.org_id and not s_.removed), candidates[0])
        return d, self.assign(m, first), self.senders.get(first)

    def choose(self, pooled: list[Waiting], by_sender: dict[str, list[Waiting]],
               pending: dict[tuple[str, str], list[Claim]], later: list[tuple[Waiting, float]],
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

            def usable(sender_id: str, org_id: str = m.org_id, closed=closed, m=m) -> bool:
                return sender_id not in closed and self.usable(sender_id, org_id) and not self.held(m, sender_id)

            def has_quota(sender_id: str) -> bool:
                return self.exhausted.get(sender_id, 0.0) <= now

            chosen, soonest = None, None
            sticky = self.pools.rotation.sticky_sender(recipient)
            for sender_id in self.pools.rotation.order(request.key, candidates, recipient, usable, has_quota):
                wait = self.pairs.wait(sender_id, m.to, now)  # this batch's claims count too
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
                if soonest is None and self.templates is not None and self.templates.holds_any(m, candidates):
                    soonest = min(recheck_delay(m), HELD_RECHECK_SECONDS)  # Meta holds its template: look soon
                later.append((w, max(soonest, 0.05) if soonest is not None else recheck_delay(m)))
                continue
            self.pools.rotation.chosen(request.key, candidates, recipient, chosen)
            pending.setdefault((chosen, m.to), []).append(self.pairs.reserve(chosen, m.to, now))
            w.message = self.assign(m, chosen)
            by_sender.setdefault(chosen, []).append(w)

    def usable(self, sender_id: str, org_id: str) -> bool:
        """Whether selection may pick the sender now: its organization's, connected, not paused,
        and healthy (domain/health.py)."""
        sender = self.senders.get(sender_id)
        if sender is None or sender.org_id != org_id or not sender.can_send():
            return False
        health = self.health.get(sender_id)
        return health is None or health.selectable

    def held(self, m: OutboundMessage, sender_id: str) -> bool:
        """Whether the sender's account holds the message's template (paused or disabled by Meta)."""
        return self.templates is not None and self.templates.blocks(m, sender_id)

    def assign(self, m: OutboundMessage, sender_id: str) -> OutboundMessage:
        if m.sender_id == sender_id:
            return m
        sender = self.senders.get(sender_id)
        return m.from_sender(sender_id, (sender.phone_number or "") if sender else "")
