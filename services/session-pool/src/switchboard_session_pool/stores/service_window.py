"""The 24-hour customer-service window of Meta Cloud API senders: free-form messages may go only to
a contact whose last inbound message to that sender is less than 24 hours old (outside it, only
templates). The last inbound per (sender, contact) is kept from `message.received`."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_contracts import message
from switchboard_contracts.message import StatusError
from switchboard_runtime.messaging.consumer import BadMessage, BatchOutcome, Delivery

from ..tables import SCHEMA

WINDOW = timedelta(hours=24)
OUTSIDE_WINDOW = StatusError(
    code="outside_window", title="Outside the 24-hour customer service window",
    detail="The contact has not written to this sender in the last 24 hours: only a template may be sent.")

RECORD = text(f"""
    INSERT INTO {SCHEMA}.last_inbound (sender_id, contact, at)
    SELECT * FROM unnest(CAST(:senders AS text[]), CAST(:contacts AS text[]), CAST(:ats AS timestamptz[]))
    ON CONFLICT (sender_id, contact) DO UPDATE SET at = GREATEST({SCHEMA}.last_inbound.at, excluded.at)""")
LOOKUP = text(f"""
    SELECT sender_id, contact, at FROM {SCHEMA}.last_inbound
    WHERE (sender_id, contact) IN (SELECT * FROM unnest(CAST(:senders AS text[]), CAST(:contacts AS text[])))""")


class ServiceWindow:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def handle(self, deliveries: list[Delivery]) -> BatchOutcome:
        """Consumer of `message.received`: remember the latest inbound per (sender, contact)."""
        outcome, latest = BatchOutcome(), {}
        for d in deliveries:
            try:
                m = message.MessageReceived.model_validate(d.event().data)
            except (BadMessage, ValidationError) as exc:
                outcome.reject(d, f"not a message.received event: {exc}")
                continue
            key = (m.sender_id, m.from_)
            latest[key] = max(latest.get(key, m.timestamp), m.timestamp)
        if latest:
            async with self.engine.begin() as conn:
                await conn.execute(RECORD, {"senders": [s for s, _ in latest], "contacts": [c for _, c in latest],
                                            "ats": list(latest.values())})
        return outcome

    async def open_for(self, pairs: list[tuple[str, str]], now: datetime) -> set[tuple[str, str]]:
        """Which (sender, contact) pairs are inside the window now."""
        if not pairs:
            return set()
        async with self.engine.connect() as conn:
            rows = await conn.execute(LOOKUP, {"senders": [s for s, _ in pairs], "contacts": [c for _, c in pairs]})
            return {(r.sender_id, r.contact) for r in rows if now - r.at < WINDOW}
