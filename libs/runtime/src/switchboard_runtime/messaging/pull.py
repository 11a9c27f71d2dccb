"""A lean JetStream pull loop: one pull request at a time for up to `batch` messages, delivered to
one inbox subscription handed straight to a buffer from nats-py's read loop (`nats_internals.hand_off`:
no queue, task or coroutine per message). (nats-py's `fetch` waits for each message with its own
`wait_for`, a new task and a uuid4 — the largest cost of our projections.)"""

from __future__ import annotations

import asyncio
import json
from collections import deque

from nats.aio.client import Client
from nats.aio.msg import Msg

from .nats_internals import hand_off

TERMINAL = {"404", "408", "409"}  # no messages / request expired / request closed by the server


class PullLoop:
    def __init__(self, nc: Client, stream: str, durable: str):
        self.nc = nc
        self.api = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}"
        self.inbox = nc.new_inbox()
        self.buffer: deque[Msg] = deque()
        self.arrived = asyncio.Event()
        self.expected = 0  # messages the open pull request may still deliver
        self.sub = None

    async def start(self) -> None:
        # No callback: the hand-off takes the queue's place (pending_bytes_limit=0: nothing accumulates)
        self.sub = await self.nc.subscribe(self.inbox, pending_bytes_limit=0)
        hand_off(self.sub, self._on_msg)

    async def stop(self) -> None:
        if self.sub is not None:
            await self.sub.unsubscribe()
            self.sub = None

    def _on_msg(self, msg: Msg) -> None:  # in nats-py's read loop: quick, never raises
        status = msg.headers.get("Status") if msg.headers else None
        if status is not None and not msg.data:
            if status in TERMINAL:
                self.expected = 0
                self.arrived.set()
            return  # 100 = heartbeat or flow control: nothing to do
        self.buffer.append(msg)
        self.expected -= 1
        self.arrived.set()

    async def fetch(self, batch: int, timeout: float, linger: float = 0.0) -> list[Msg]:
        """Up to `batch` messages: what has arrived, or the first ones to arrive within `timeout`;
        with `linger`, once the first has arrived, up to that long more for the batch to fill (fewer,
        bigger batches: a projection then applies several events of one message in one statement)."""
        if not self.buffer and self.expected <= 0:
            request = {"batch": batch, "expires": int(timeout * 1e9)}
            self.expected = batch
            self.arrived.clear()
            await self.nc.publish(self.api, json.dumps(request).encode(), reply=self.inbox)
        if not self.buffer:
            try:
                await asyncio.wait_for(self.arrived.wait(), timeout + 1.0)
            except TimeoutError:
                self.expected = 0  # the request was lost (e.g. a reconnect): ask again next time
                return []
        self.arrived.clear()
        if linger > 0 and len(self.buffer) < batch:
            await self._fill(batch, linger)
        take = min(batch, len(self.buffer))
        return [self.buffer.popleft() for _ in range(take)]

    async def _fill(self, batch: int, linger: float) -> None:
        """Wait up to `linger` while the open pull request may still bring messages to fill the batch."""
        deadline = asyncio.get_running_loop().time() + linger
        while len(self.buffer) < batch and self.expected > 0:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return
            try:
                await asyncio.wait_for(self.arrived.wait(), left)
            except TimeoutError:
                return
            self.arrived.clear()
