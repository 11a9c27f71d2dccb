"""Reopening conversations the contact wrote to. The history records, in the transaction of an inbound
message, that a resolved, snoozed or archived conversation is to be reopened (`conversations_to_reopen`,
an outbox); this task opens each again — the same conversation, its assignee kept — and then clears the
row. A crash in between only makes the next pass try again: reopening an open conversation changes
nothing."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_runtime.background import Drain

from .lifecycle import Lifecycle
from .tables import SCHEMA


TAKE = text(f"SELECT conversation_id, org_id, at FROM {SCHEMA}.conversations_to_reopen ORDER BY at LIMIT :n")
DONE = text(f"DELETE FROM {SCHEMA}.conversations_to_reopen WHERE conversation_id = :id AND at <= :at")


class Reopener:
    def __init__(self, engine: AsyncEngine, lifecycle: Lifecycle, batch: int = 500, poll_interval: float = 1.0):
        self.engine, self.lifecycle, self.batch = engine, lifecycle, batch
        self.task = Drain("conversation-reopener", self.reopen_pending, poll_interval)
        self.wake, self.start, self.stop = self.task.wake, self.task.start, self.task.stop

    async def reopen_pending(self) -> int:
        """Reopen every conversation waiting to be; returns how many were taken."""
        taken = 0
        while True:
            async with self.engine.connect() as conn:
                rows = list(await conn.execute(TAKE, {"n": self.batch}))
            if not rows:
                return taken
            for r in rows:
                await self.lifecycle.change(r.org_id, r.conversation_id, lambda c, at=r.at: c.inbound(at))
                async with self.engine.begin() as conn:
                    await conn.execute(DONE, {"id": r.conversation_id, "at": r.at})
            taken += len(rows)
