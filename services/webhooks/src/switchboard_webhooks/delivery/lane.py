"""One endpoint's line: its events in stream order, each delivered before the next. A failed attempt
is retried on the schedule (the head of the line waits; later events wait behind it, so a receiver that
was down gets everything, in order, once it is back); the retry state is recorded, so a restart keeps
the schedule. 410 Gone disables the endpoint; so does failing every attempt for `disable_after`. An
event that fails the whole schedule is given up (the attempts log says so) and the line goes on.

Each line is its own task with its own consumer and connections: a slow or failing endpoint delays no
other."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from switchboard_contracts.envelope import utcnow

from ..attempts import AttemptLog
from ..domain import filters
from ..domain.schedule import after_failure, retry_after_seconds, should_disable
from ..endpoint_store import EndpointStore
from .http_post import client
from .reader import Reader
from .target import Event, Target


@dataclass
class LaneConfig:
    schedule: tuple[float, ...]
    disable_after: timedelta
    timeout: float
    max_bytes: int
    allow_private: bool


@dataclass
class Head:
    """The event being retried, if any."""

    seq: int | None
    attempts: int
    next_at: datetime | None
    failing_since: datetime | None


class Lane:
    def __init__(self, endpoint_id: str, js, store: EndpointStore, log: AttemptLog, config: LaneConfig):
        self.endpoint_id, self.js, self.store, self.log, self.config = endpoint_id, js, store, log, config

    async def run(self) -> None:
        """Deliver until cancelled, or until the endpoint is disabled or gone."""
        row = await self.store.load(self.endpoint_id)
        if row is None or not row.enabled:
            return
        target = Target(self.endpoint_id, row.org_id, row.url, self.store.keys(row.secrets),
                        client(allow_private=self.config.allow_private, timeout=self.config.timeout),
                        self.log, self.config.timeout, self.config.max_bytes)
        head = Head(row.head_seq, row.head_attempts, row.head_next_at, row.failing_since)
        reader = Reader(self.js, self.endpoint_id, filters.subjects(row.org_id, list(row.event_types)), row.position)
        try:
            await reader.open()
            while True:
                msg = await reader.next()
                if msg is None:
                    continue
                event = Event.of(msg.metadata.sequence.stream, msg.data)
                if not await self.deliver(target, event, head):
                    return
        finally:
            await asyncio.shield(self._close(reader, target))

    @staticmethod
    async def _close(reader: Reader, target: Target) -> None:
        await target.http.aclose()
        await reader.close()

    async def deliver(self, target: Target, event: Event, head: Head) -> bool:
        """Deliver one event (retrying it on the schedule); False when the endpoint was disabled."""
        attempts = head.attempts if head.seq == event.sequence else 0
        next_at = head.next_at if head.seq == event.sequence else None
        schedule = self.config.schedule
        while True:
            if next_at is not None:
                await asyncio.sleep(max(0.0, (next_at - utcnow()).total_seconds()))
            started = utcnow()
            last = attempts + 1 >= len(schedule)
            outcome = await target.attempt(event, attempts + 1, "delivery", event.sequence,
                                           final_note=f"gave up after {attempts + 1} attempts" if last else None)
            attempts += 1
            if outcome.kind == "succeeded":
                head.seq, head.attempts, head.next_at, head.failing_since = None, 0, None, None
                return True
            head.failing_since = head.failing_since or started
            if outcome.kind == "gone":
                await self.log.flush()
                await self.store.disable(self.endpoint_id, "gone", f"the receiver answered 410 Gone to {event.id}",
                                         head.failing_since)
                return False
            now = utcnow()
            if should_disable(head.failing_since, now, self.config.disable_after):
                await self.log.flush()
                await self.store.disable(self.endpoint_id, "failing",
                                         f"every attempt failed since {head.failing_since.isoformat()}",
                                         head.failing_since)
                return False
            nxt = after_failure(schedule, attempts, now, retry_after_seconds(outcome.retry_after, now))
            if nxt.at is None:  # given up: the attempt above moved the position on
                head.seq, head.attempts, head.next_at = None, 0, None
                await self.log.flush()
                await self.store.record_head(self.endpoint_id, None, 0, None, head.failing_since)
                return True
            next_at = nxt.at
            head.seq, head.attempts, head.next_at = event.sequence, attempts, next_at
            await self.log.flush()
            await self.store.record_head(self.endpoint_id, event.sequence, attempts, next_at, head.failing_since)
