"""Which active flow an inbound message (or an event) starts: the organization's active flows with
their newest revision, read from the flows table at most every `ttl` seconds per organization (at
once after a change in this replica), matched by trigger and sender, highest `priority` first, then
the oldest flow."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from .domain.definition import Definition
from .domain.triggers import event_matches, inbound_matches
from .engine import Revisions
from .flow_store import FlowStore


@dataclass(frozen=True)
class ActiveFlow:
    flow_id: str
    revision: int
    priority: int
    created_at: datetime
    definition: Definition

    @property
    def trigger_type(self) -> str:
        return self.definition.trigger.type



class TriggerDirectory:
    def __init__(self, store: FlowStore, revisions: Revisions, ttl: float = 2.0):
        self.store, self.revisions, self.ttl = store, revisions, ttl
        self._of: dict[str, tuple[float, list[ActiveFlow]]] = {}

    def changed(self, org_id: str) -> None:
        self._of.pop(org_id, None)

    async def active(self, org_id: str) -> list[ActiveFlow]:
        found = self._of.get(org_id)
        if found is not None and time.monotonic() - found[0] < self.ttl:
            return found[1]
        flows = []
        for row in await self.store.active(org_id):
            definition = self.revisions.put(row["flow_id"], row["revision"], row["definition"])
            flows.append(ActiveFlow(row["flow_id"], row["revision"], row["priority"], row["created_at"], definition))
        flows.sort(key=lambda f: (-f.priority, f.created_at, f.flow_id))
        self._of[org_id] = (time.monotonic(), flows)
        return flows

    async def for_message(self, org_id: str, sender_id: str, text: str | None) -> ActiveFlow | None:
        """The flow an inbound message starts (keyword and any-message triggers), if any."""
        return next((flow for flow in await self.active(org_id)
                     if inbound_matches(flow.definition.trigger, sender_id, text)), None)

    async def for_event(self, org_id: str, event_type: str, data: dict) -> list[ActiveFlow]:
        """Every active flow an event starts (one execution each)."""
        return [f for f in await self.active(org_id)
                if f.definition.trigger.type == "event" and event_matches(f.definition.trigger, event_type, data)]
