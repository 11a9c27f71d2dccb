"""The waiting room: messages that may not go now (over quota, their sender paused or disconnected,
their campaign paused, the pair rate, or the provider asking to come back) wait here, un-acked and kept
alive with `in_progress`, in a heap by when they are due. They never block messages that may go; past
their time-to-live they end as `expired`."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from switchboard_contracts.message import StatusError
from switchboard_runtime.messaging.consumer import Delivery

from ..domain.outbound import OutboundMessage, SendResult

EXPIRED = StatusError(code="expired", title="Expired",
                      detail="The message could not be sent within its time-to-live.")
SENDER_RECHECK_SECONDS = 5.0  # a message of a paused or disconnected sender looks again this often


@dataclass(order=True)
class Waiting:
    due: float
    seq: int
    delivery: Delivery = field(compare=False)
    message: OutboundMessage = field(compare=False)
    touched: float = field(compare=False, default=0.0)
    attempt: int = field(compare=False, default=0)  # provider attempts that asked us to come back
    announced: bool = field(compare=False, default=False)  # its message.accepted is in the stream


def expired(m: OutboundMessage) -> bool:
    return m.expires_at is not None and time.time() >= m.expires_at


def recheck_delay(m: OutboundMessage) -> float:
    """When to look again at a message whose sender cannot send now (no later than its expiry)."""
    if m.expires_at is None:
        return SENDER_RECHECK_SECONDS
    return max(min(SENDER_RECHECK_SECONDS, m.expires_at - time.time()), 0.05)


class WaitingRoom:
    def __init__(self, keepalive: float = 10.0):
        self.keepalive = keepalive  # seconds between two `in_progress` of a held command
        self.heap: list[Waiting] = []
        self._seq = itertools.count()
        self._wake = asyncio.Event()

    def put(self, w: Waiting, result: SendResult | None = None, delay: float | None = None) -> None:
        """Wait `delay` seconds, or as long as the provider's answer asks (at least 50 ms)."""
        now = time.monotonic()
        w.due = now + (delay if delay is not None else max(result.delay if result else 0.0, 0.05))
        w.seq = next(self._seq)
        heapq.heappush(self.heap, w)
        self._wake.set()

    def wake(self) -> None:
        """Something changed (a sender, a hold): look at the waiting messages again now."""
        self._wake.set()

    def take_due(self, now: float) -> list[Waiting]:
        self._wake.clear()
        due: list[Waiting] = []
        while self.heap and self.heap[0].due <= now:
            due.append(heapq.heappop(self.heap))
        return due

    def take_if(self, matches: Callable[[Waiting], bool]) -> list[Waiting]:
        """Take out the waiting messages that match, whenever they are due."""
        taken = [w for w in self.heap if matches(w)]
        if taken:
            self.heap = [w for w in self.heap if not matches(w)]
            heapq.heapify(self.heap)
        return taken

    async def keep_alive(self, now: float) -> None:
        """Keep held commands from being redelivered meanwhile."""
        for w in self.heap:
            if now - w.touched >= self.keepalive:
                w.touched = now
                await w.delivery.raw.in_progress()

    async def sleep(self, now: float) -> None:
        """Until the next message is due (at most 1 s), or until woken."""
        timeout = min([self.heap[0].due - now] if self.heap else [1.0])
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=max(min(timeout, 1.0), 0.005))
        except TimeoutError:
            pass
