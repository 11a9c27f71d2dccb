"""Applies `sender.*` events to the gateway's senders read model, one transaction per batch, in
stream order; applying the same event twice changes nothing. (Messages and conversations are the
conversations service's: it records and serves them.)"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_contracts.envelope import CloudEvent
from switchboard_runtime.messaging.consumer import BadMessage, BatchOutcome, Delivery

from . import senders


class Projection:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine

    async def handle(self, deliveries: list[Delivery]) -> BatchOutcome:
        outcome = BatchOutcome()
        events: list[CloudEvent] = []
        for d in deliveries:
            try:
                events.append(d.event())
            except BadMessage as exc:
                outcome.reject(d, str(exc))
        try:
            await self.apply(events)
        except (ValidationError, ValueError, KeyError):
            # One bad event must not block the rest: apply them one by one, reject the bad ones.
            for d in deliveries:
                if any(d is r for r, _ in outcome.rejected):
                    continue
                try:
                    await self.apply([d.event()])
                except (ValidationError, ValueError, KeyError) as exc:
                    outcome.reject(d, f"event does not match its contract: {exc}")
        return outcome

    async def apply(self, events: Iterable[CloudEvent]) -> None:
        sender_events = [ce for ce in events if ce.type in senders.EVENTS]
        if not sender_events:
            return
        async with self.engine.begin() as conn:
            for ce in sender_events:
                await senders.apply(conn, ce)
