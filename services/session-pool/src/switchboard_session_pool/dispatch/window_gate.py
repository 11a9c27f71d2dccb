"""The 24-hour window at intake: a Meta Cloud API sender's free-form message to a contact with no
inbound in the last 24 hours fails at once with `outside_window` (templates may go at any time). A
free-form pool message may not take a Meta sender outside its window with the recipient: such senders
are left out of its candidates, and with none left it fails."""

from __future__ import annotations

from datetime import datetime

from switchboard_runtime.messaging.consumer import Delivery

from ..domain.outbound import OutboundMessage, SendResult
from ..domain.sender import Sender
from ..stores.service_window import OUTSIDE_WINDOW, ServiceWindow
from .pools import Pools

Pair = tuple[Delivery, OutboundMessage]
Failed = list[tuple[OutboundMessage, SendResult]]


class WindowGate:
    def __init__(self, window: ServiceWindow, senders: dict[str, Sender], pools: Pools,
                 outside_window: dict[str, set[str]]):
        self.window, self.senders, self.pools = window, senders, pools
        self.outside_window = outside_window  # pool message → Meta senders it may not take

    async def apply(self, to_gate: list[Pair], pooled: list[Pair], failed: Failed,
                    now_dt: datetime) -> tuple[list[Pair], list[Pair]]:
        """The messages that may still go (single-sender ones, pool ones); the others go to `failed`."""
        return await self._single(to_gate, failed, now_dt), await self._pooled(pooled, failed, now_dt)

    async def _single(self, to_gate: list[Pair], failed: Failed, now_dt: datetime) -> list[Pair]:
        meta = [(d, m) for d, m in to_gate if self.senders[m.sender_id].provider == "meta-cloud"
                and m.type != "template"]  # templates may go at any time
        if not meta:
            return to_gate
        open_ = await self.window.open_for([(m.sender_id, m.to) for _, m in meta], now_dt)
        closed = {m.message_id for _, m in meta if (m.sender_id, m.to) not in open_}
        failed.extend((m, SendResult(m.message_id, ok=False, error=OUTSIDE_WINDOW))
                      for _, m in to_gate if m.message_id in closed)
        return [(d, m) for d, m in to_gate if m.message_id not in closed]

    async def _pooled(self, pooled: list[Pair], failed: Failed, now_dt: datetime) -> list[Pair]:
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
