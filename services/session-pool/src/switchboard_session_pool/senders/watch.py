"""Keeps this replica's view of senders current when another replica changes one (a pause, a new
quota, a lost connection): every `sender.*` event reloads that sender from the event store. A core
NATS subscription (no durable state): a replica that was away reloads senders as it meets them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from switchboard_contracts.subjects import any_org_events
from switchboard_runtime.eventstore import call
from switchboard_runtime.logs import get_logger

from ..application import SendersApp
from ..domain.sender import Sender

log = get_logger(__name__)


class SenderWatch:
    def __init__(self, app: SendersApp, senders: dict[str, Sender], on_change: Callable[[Sender], None]):
        self.app, self.senders, self.on_change = app, senders, on_change
        self._sub = None
        self._due: set[str] = set()
        self._task: asyncio.Task | None = None
        self._wake = asyncio.Event()

    async def start(self, nc) -> None:
        self._sub = await nc.subscribe(any_org_events("sender", "*"), cb=self._seen)
        self._task = asyncio.create_task(self._reload(), name="sender-watch")

    async def _seen(self, msg) -> None:
        try:
            sender_id = json.loads(msg.data).get("subject")
        except (ValueError, AttributeError):
            return
        if sender_id in self.senders:  # only senders this replica acts on
            self._due.add(sender_id)
            self._wake.set()

    async def _reload(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            due, self._due = self._due, set()
            for sender_id in due:
                try:
                    sender = await call(self.app.find, sender_id)
                except Exception as exc:  # noqa: BLE001 - try again with the next event
                    log.warning("could not reload a sender", sender_id=sender_id, error=repr(exc))
                    continue
                current = self.senders.get(sender_id)
                if sender is not None and (current is None or sender.version > current.version):
                    self.on_change(sender)

    async def stop(self) -> None:
        if self._sub is not None:
            await self._sub.unsubscribe()
        if self._task:
            self._task.cancel()
