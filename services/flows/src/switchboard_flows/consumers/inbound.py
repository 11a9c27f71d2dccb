"""`message.received` → flows. A contact's message goes to the execution active for it on that sender
(it resumes one waiting for a reply, or is kept by a busy one for its next `wait_for_reply`); else it
may start the best matching active flow; else the auto-reply rules see it. A batch's messages are
taken per contact in stream order, contacts side by side; a redelivered message starts nothing new
and sends nothing twice (the ids derive from it)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError

from switchboard_contracts.envelope import CloudEvent
from switchboard_contracts.message import MessageReceived
from switchboard_runtime.messaging.consumer import BadMessage, BatchOutcome, Delivery

from ..domain.inputs import Reply
from ..engine import Engine, Start
from ..execution_index import ExecutionIndex
from ..trigger_directory import TriggerDirectory

Fallback = Callable[[CloudEvent, MessageReceived, bool], Awaitable[None]]
CONTACTS_AT_ONCE = 64


def reply_id_of(message: MessageReceived) -> str | None:
    """The id of an interactive reply: a button or list row (`interactive`), a template's quick-reply
    button (`button`: its payload)."""
    content: dict[str, Any] = message.content or {}
    if message.type == "interactive":
        reply = content.get(content.get("type") or "")
        return reply.get("id") if isinstance(reply, dict) else None
    if message.type == "button":
        return content.get("payload")
    return None


class Inbound:
    def __init__(self, engine: Engine, index: ExecutionIndex, directory: TriggerDirectory,
                 fallback: Fallback | None = None):
        self.engine, self.index, self.directory, self.fallback = engine, index, directory, fallback
        self._slots = asyncio.Semaphore(CONTACTS_AT_ONCE)

    async def handle(self, deliveries: list[Delivery]) -> BatchOutcome:
        outcome = BatchOutcome()
        by_contact: dict[tuple[str, str], list[tuple[Delivery, CloudEvent, MessageReceived]]] = {}
        for d in deliveries:
            try:
                ce = d.event()
                message = MessageReceived.model_validate(ce.data)
            except (BadMessage, ValidationError) as exc:
                outcome.reject(d, f"not a message.received event: {exc}")
                continue
            by_contact.setdefault((ce.orgid, message.from_), []).append((d, ce, message))
        await asyncio.gather(*(self._contact(items) for items in by_contact.values()))
        return outcome

    async def _contact(self, items: list[tuple[Delivery, CloudEvent, MessageReceived]]) -> None:
        async with self._slots:
            for d, ce, message in items:
                await self.received(ce, message, redelivered=d.num_delivered > 1)

    async def received(self, ce: CloudEvent, message: MessageReceived, redelivered: bool = False) -> None:
        reply = Reply(input_id=ce.id, text=message.text, reply_id=reply_id_of(message),
                      contact_name=message.contact_name)
        active = [a for a in await self.index.active_of_contact(ce.orgid, message.from_)
                  if a["sender_id"] == message.sender_id]
        if active:
            target = next((a for a in active if a["waiting_for"] == "reply"), active[0])
            await self.engine.deliver(target["execution_id"], reply, redelivered=redelivered)
            return
        flow = await self.directory.for_message(ce.orgid, message.sender_id, message.text)
        if flow is not None:
            start = Start(org_id=ce.orgid, flow_id=flow.flow_id, revision=flow.revision, contact=message.from_,
                          contact_name=message.contact_name, sender_id=message.sender_id,
                          trigger={"type": flow.trigger_type, "event_id": ce.id}, data={},
                          message=message.text, reply_id=reply.reply_id)
            await self.engine.start(start, first=reply)
            return
        if self.fallback is not None:
            await self.fallback(ce, message, redelivered)
