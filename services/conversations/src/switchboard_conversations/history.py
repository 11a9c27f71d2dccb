"""The message history: applies message events — and the API's sends — to the history tables, in
one transaction and a handful of set-based statements per batch; a repeat of any event changes
nothing."""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from switchboard_runtime.messaging.consumer import BadMessage, BatchOutcome, Delivery

from . import conversation_table, first_statuses, message_table, status_merge
from .conversation_table import Recorded
from .records import NewMessage, StatusUpdate, collect_delivery


async def record(conn: AsyncConnection, messages: list[NewMessage], statuses: list[StatusUpdate]) -> Recorded:
    """Record messages and statuses in `conn`'s transaction; returns whether conversations are now to
    be started or reopened."""
    folded = await first_statuses.fold(conn, messages, statuses)
    inserted = await message_table.insert(conn, messages, folded.states)
    attached = await message_table.attach(conn, [m for m in messages if m.message_id not in inserted])
    counted = [m for m in messages if m.message_id in inserted or m.message_id in attached]
    recorded = await conversation_table.record(conn, counted)
    await status_merge.apply(conn, folded.left_over(inserted))
    return recorded


class History:
    def __init__(self, engine: AsyncEngine, on_new_conversations=None, on_reopen=None):
        self.engine = engine
        self.on_new_conversations = on_new_conversations  # wakes the starter after a commit
        self.on_reopen = on_reopen  # wakes the reopener after a commit

    async def handle(self, deliveries: list[Delivery]) -> BatchOutcome:
        outcome = BatchOutcome()
        messages: dict[str, NewMessage] = {}
        statuses: list[StatusUpdate] = []
        for d in deliveries:
            try:
                collect_delivery(d, messages, statuses)
            except (BadMessage, ValidationError, ValueError) as exc:
                outcome.reject(d, f"not a message event this service understands: {exc}")
        if messages or statuses:
            async with self.engine.begin() as conn:
                recorded = await record(conn, list(messages.values()), statuses)
            if recorded.started and self.on_new_conversations:
                self.on_new_conversations()
            if recorded.reopened and self.on_reopen:
                self.on_reopen()
        return outcome
