"""Publishing the facts of one delivery: skip those already recorded, publish the rest (each with its
PubAck), then record them; keep deliveries no sender owns on the quarantine stream."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from switchboard_contracts.subjects import quarantine_subject
from switchboard_runtime.messaging.publisher import PublishError, Publisher

from .domain.facts import Fact
from .seen import SeenFacts


class Unavailable(Exception):
    """JetStream did not store (or could not confirm) what the delivery carries: answer 503."""


@dataclass
class Outcome:
    published: int = 0
    duplicates: int = 0
    quarantined: bool = False

    def body(self) -> dict:
        return {"published": self.published, "duplicates": self.duplicates, "quarantined": self.quarantined}


class Ingestor:
    """Concurrent deliveries are handled together (group commit): the deliveries that arrive in one
    turn of the event loop form a round — one batched lookup, one pipelined publish, one pipelined
    record — and up to `max_rounds` rounds are in flight at once."""

    def __init__(self, seen: SeenFacts, publisher: Publisher, max_rounds: int = 16):
        self.seen, self.publisher, self.max_rounds = seen, publisher, max_rounds
        self._queue: list[tuple[list[Fact], asyncio.Future]] = []
        self._active = 0
        self._scheduled = False
        self._rounds: set[asyncio.Task] = set()

    async def ingest(self, facts: list[Fact]) -> Outcome:
        """Publish the facts not published before; returns once all are stored (Unavailable if not)."""
        if not facts:
            return Outcome()
        done = asyncio.get_running_loop().create_future()
        self._queue.append((facts, done))
        self._kick()
        return await done

    def _kick(self) -> None:
        if self._queue and self._active < self.max_rounds and not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._start_round)  # after this turn's deliveries joined

    def _start_round(self) -> None:
        self._scheduled = False
        if not self._queue or self._active >= self.max_rounds:
            return
        batch, self._queue = self._queue, []
        self._active += 1
        task = asyncio.create_task(self._round(batch))
        self._rounds.add(task)
        task.add_done_callback(self._round_done)

    def _round_done(self, task: asyncio.Task) -> None:
        self._rounds.discard(task)
        self._active -= 1
        self._kick()

    async def _round(self, batch: list[tuple[list[Fact], asyncio.Future]]) -> None:
        """The record is written only after the events' PubAcks, so a failure in between makes the
        provider retry; the retry is then caught by the stream's Nats-Msg-Id window (or, past it,
        republished: never lost). The same fact in two rounds at once is stored once by that window."""
        facts = [f for fs, _ in batch for f in fs]
        try:
            seen = await self.seen.seen(k for f in facts for k in f.keys)
            new: dict[str, Fact] = {}
            for f in facts:
                if f.event.id not in new and not any(k in seen for k in f.keys):
                    new[f.event.id] = f
            stored = set(new)
            if new:
                duplicates = await self.publisher.publish_many(f.event for f in new.values())
                stored = {eid for eid, dup in zip(new, duplicates, strict=True) if not dup}
                await self.seen.remember(k for f in new.values() for k in f.keys)
        except PublishError as exc:
            for _, done in batch:
                if not done.done():
                    done.set_exception(Unavailable(str(exc)))
            return
        for fs, done in batch:
            published = sum(1 for f in fs if f.event.id in stored and new.get(f.event.id) is f)
            if not done.done():
                done.set_result(Outcome(published=published, duplicates=len(fs) - published))

    async def quarantine(self, provider: str, body: bytes, reason: str) -> None:
        """Keep an unroutable delivery (unverified: no sender's secret vouches for it) for operators."""
        headers = {"Nats-Msg-Id": "quarantine:" + hashlib.sha256(body).hexdigest(),
                   "Switchboard-Provider": provider, "Switchboard-Reason": reason[:500],
                   "Switchboard-Verified": "false", "Switchboard-Received-At": datetime.now(UTC).isoformat()}
        try:
            await self.publisher.publish_raw_many([(quarantine_subject(provider), body, headers)])
        except PublishError as exc:
            raise Unavailable(str(exc)) from exc
