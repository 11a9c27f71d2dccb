"""The outbox relay: follows an application's notification log and publishes each domain event as a
CloudEvent, recording its position only after every PubAck (no dual writes)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from eventsourcing.application import Application
from eventsourcing.domain import DomainEventProtocol
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_contracts.envelope import CloudEvent, EncodedEvent

from .logs import get_logger
from .messaging.publisher import Publisher

log = get_logger(__name__)

EventMapper = Callable[[DomainEventProtocol], CloudEvent | EncodedEvent | None]


class RelayPositions:
    """The last published notification id per relay, in the service's own schema."""

    def __init__(self, engine: AsyncEngine, schema: str):
        self.engine = engine
        self.table = f'"{schema}".relay_positions'

    async def create(self) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(text(
                f"CREATE TABLE IF NOT EXISTS {self.table} "
                "(name text PRIMARY KEY, position bigint NOT NULL)"))

    async def get(self, name: str) -> int:
        async with self.engine.connect() as conn:
            row = (await conn.execute(text(f"SELECT position FROM {self.table} WHERE name = :n"),
                                      {"n": name})).first()
        return row[0] if row else 0

    async def set(self, name: str, position: int) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(text(
                f"INSERT INTO {self.table} (name, position) VALUES (:n, :p) "
                "ON CONFLICT (name) DO UPDATE SET position = GREATEST(relay_positions.position, :p)"),
                {"n": name, "p": position})


class Relay:
    def __init__(self, app: Application, publisher: Publisher, positions: RelayPositions,
                 to_cloudevent: EventMapper, *, name: str = "events", batch: int = 500,
                 poll_interval: float = 0.2):
        self.app = app
        self.publisher = publisher
        self.positions = positions
        self.to_cloudevent = to_cloudevent
        self.name = name
        self.batch = batch
        self.poll_interval = poll_interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None

    def wake(self) -> None:
        """Tell the relay new events were saved (it also polls, for saves by other processes)."""
        self._wake.set()

    async def publish_pending(self) -> int:
        """Publish everything recorded after our position; returns how many events were published."""
        position = await self.positions.get(self.name)
        published = 0
        while True:
            notifications = await asyncio.to_thread(
                self.app.recorder.select_notifications, position + 1, self.batch)
            if not notifications:
                return published
            events = []
            for n in notifications:
                ce = self.to_cloudevent(self.app.mapper.to_domain_event(n))
                if ce is not None:
                    events.append(ce)
            await self.publisher.publish_many(events)
            position = notifications[-1].id
            await self.positions.set(self.name, position)
            published += len(events)

    async def run(self) -> None:
        while True:
            try:
                await self.publish_pending()
            except Exception as exc:  # noqa: BLE001 - NATS or PostgreSQL away: retry from the position
                log.warning("relay failed; retrying", relay=self.name, error=repr(exc))
                await asyncio.sleep(1.0)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval)
            except TimeoutError:
                pass
            self._wake.clear()

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name=f"relay-{self.name}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
