"""Many NATS requests in flight on one inbox subscription, replies matched by their subject, one
timer per batch: what JetStream publishes (PubAcks) and direct gets need at volume, without nats-py's
per-request future, random token and `wait_for`. Each reply is handed to the pipeline inside nats-py's
read loop (`nats_internals.hand_off`): no queue, no per-subscription task, no second hop per reply."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsError

from .nats_internals import hand_off
from .wire import write_many


class RequestsFailed(Exception):
    """No reply in time, or the connection refused the requests."""


class _Batch:
    __slots__ = ("replies", "left", "done")

    def __init__(self, size: int, done: asyncio.Future):
        self.replies: list[Msg | None] = [None] * size
        self.left = size
        self.done = done


class RequestPipeline:
    def __init__(self, nc: Client, timeout: float):
        self.nc, self.timeout = nc, timeout
        self._inbox: str | None = None
        self._pending: dict[str, tuple[_Batch, int]] = {}
        self._counter = itertools.count()

    async def _ensure_inbox(self) -> str:
        if self._inbox is None:
            inbox = self.nc.new_inbox()
            # No callback: nats-py would queue every reply for a task of its own. The hand-off takes
            # the queue's place (pending_bytes_limit=0: nothing accumulates to be counted).
            sub = await self.nc.subscribe(inbox + ".*", pending_bytes_limit=0)
            hand_off(sub, self._on_reply)
            self._inbox = inbox
        return self._inbox

    def _on_reply(self, msg: Msg) -> None:
        slot = self._pending.pop(msg.subject, None)
        if slot is None:
            return  # late: its batch already timed out
        batch, index = slot
        batch.replies[index] = msg
        batch.left -= 1
        if batch.left == 0 and not batch.done.done():
            batch.done.set_result(None)

    async def request_many(self, requests: Iterable[tuple[str, bytes, dict[str, str] | None]]) -> list[Msg]:
        """Send every request, then wait for all replies (in order); RequestsFailed after the timeout."""
        inbox = self._inbox or await self._ensure_inbox()
        loop = asyncio.get_running_loop()
        requests = list(requests)
        if not requests:
            return []
        batch = _Batch(len(requests), loop.create_future())
        subjects = []
        timer = loop.call_later(self.timeout, lambda: batch.done.done() or batch.done.set_exception(
            RequestsFailed(f"{batch.left} of {len(requests)} replies missing after {self.timeout}s")))
        try:
            publishes = []
            for index, (subject, payload, headers) in enumerate(requests):
                reply = f"{inbox}.{next(self._counter)}"
                self._pending[reply] = (batch, index)
                subjects.append(reply)
                publishes.append((subject, reply, payload, headers))
            await write_many(self.nc, publishes)  # one write for the whole batch
            await batch.done
            return batch.replies  # type: ignore[return-value]
        except NatsError as exc:
            raise RequestsFailed(f"the connection refused the requests: {exc!r}") from exc
        finally:
            timer.cancel()
            if batch.left:
                for reply in subjects:
                    self._pending.pop(reply, None)
