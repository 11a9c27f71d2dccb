"""The outbox relay: follows an application's notification log and publishes each domain event as a
CloudEvent, recording its position only after every PubAck (no dual writes).

With the position it records the stream sequence of the batch's last PubAck. A crash between a
publish and its record leaves a batch published but not recorded: on recovery (its first pass, and
after any failure) the relay reads which of the next batch's ids the stream already stores since that
sequence and publishes only the others, so an event is stored once however long the relay was down
(JetStream's duplicate window is only minutes long)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from eventsourcing.application import Application
from eventsourcing.domain import DomainEventProtocol
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from switchboard_contracts.envelope import CloudEvent, EncodedEvent, subject_of

from .background import Drain
from .logs import get_logger
from .messaging.publisher import Publisher
from .messaging.stored_ids import stored_ids

log = get_logger(__name__)

EventMapper = Callable[[DomainEventProtocol], CloudEvent | EncodedEvent | None]

# Without a recorded sequence (positions written before sequences were), the stream is read from the
# oldest candidate's time less this margin (publishing follows saving; clocks drift a little).
NO_SEQUENCE_MARGIN = timedelta(minutes=10)


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
            # the stream sequence of the last PubAck (null for positions recorded before it was)
            await conn.execute(text(f"ALTER TABLE {self.table} ADD COLUMN IF NOT EXISTS stream_seq bigint"))

    async def get(self, name: str) -> int:
        return (await self.get_with_sequence(name))[0]

    async def get_with_sequence(self, name: str) -> tuple[int, int | None]:
        """The position and the stream sequence of its batch's last PubAck (None if not known)."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(text(f"SELECT position, stream_seq FROM {self.table} WHERE name = :n"),
                                      {"n": name})).first()
        return (row[0], row[1]) if row else (0, None)

    async def set(self, name: str, position: int, stream_seq: int | None = None) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(text(
                f"INSERT INTO {self.table} (name, position, stream_seq) VALUES (:n, :p, :s) "
                "ON CONFLICT (name) DO UPDATE SET position = GREATEST(relay_positions.position, :p), "
                "stream_seq = GREATEST(relay_positions.stream_seq, :s)"),
                {"n": name, "p": position, "s": stream_seq})


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
        self.task = Drain(f"relay-{name}", self.publish_pending, poll_interval)
        self.start, self.stop = self.task.start, self.task.stop
        self._recovering = True  # until a pass has published and recorded (again after a failure)

    def wake(self) -> None:
        """Tell the relay new events were saved (it also polls, for saves by other processes)."""
        self.task.wake()

    async def publish_pending(self) -> int:
        """Publish everything recorded after our position; returns how many events were published."""
        try:
            return await self._publish_pending()
        except BaseException:
            self._recovering = True  # a batch may be published and not recorded
            raise

    async def _publish_pending(self) -> int:
        position, stream_seq = await self.positions.get_with_sequence(self.name)
        published = 0
        while True:
            notifications = await asyncio.to_thread(
                self.app.recorder.select_notifications, position + 1, self.batch)
            if not notifications:
                self._recovering = False
                return published
            events, oldest = [], None
            for n in notifications:
                domain_event = self.app.mapper.to_domain_event(n)
                ce = self.to_cloudevent(domain_event)
                if ce is not None:
                    events.append(ce)
                    at = getattr(domain_event, "timestamp", None)
                    oldest = at if oldest is None or (at is not None and at < oldest) else oldest
            if self._recovering and events:
                events = await self._not_stored(events, stream_seq, oldest)
            sequences = await self.publisher.publish_many_sequenced(events)
            position = notifications[-1].id
            stream_seq = max([*sequences, stream_seq or 0]) or None
            await self.positions.set(self.name, position, stream_seq)
            self._recovering = False  # only the batch after the recorded position can be unrecorded
            published += len(events)

    async def _not_stored(self, events: Sequence[CloudEvent | EncodedEvent], stream_seq: int | None,
                          oldest: datetime | None) -> list[CloudEvent | EncodedEvent]:
        """The events the stream does not store yet (read since the recorded sequence, or else since
        the oldest event's time less a margin)."""
        js = self.publisher.js
        subjects = {subject_of(e) for e in events}
        stream = await js.find_stream_name_by_subject(next(iter(subjects)))
        since = oldest - NO_SEQUENCE_MARGIN if stream_seq is None and oldest is not None else None
        stored = await stored_ids(js, stream, subjects, after_seq=stream_seq, since=since)
        if stored:
            log.info("relay recovery: events already stored are not published again",
                     relay=self.name, skipped=sum(e.id in stored for e in events))
        return [e for e in events if e.id not in stored]
