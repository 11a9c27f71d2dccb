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
    """Concurrent deliveries are handled together (group commit): while one round of lookups,
    publishes and records is in flight, the deliveries that arrive wait and form the next round."""

    def __init__(self, seen: SeenFacts, publisher: Publisher):
        self.seen, self.publisher = seen, publisher
        self._queue: list[tuple[list[Fact], asyncio.Future]] = []
        self._rounds: asyncio.Task | None = None

    async def ingest(self, facts: list[Fact]) -> Outcome:
        """Publish the facts not published before; returns once all are stored (Unavailable if not)."""
        if not facts:
            return Outcome()
        done = asyncio.get_running_loop().create_future()
        self._queue.append((facts, done))
        if self._rounds is None or self._rounds.done():
            self._rounds = asyncio.create_task(self._run_rounds())
        return await done

    async def _run_rounds(self) -> None:
        await asyncio.sleep(0)  # let the deliveries of this loop turn join the first round
        while self._queue:
            batch, self._queue = self._queue, []
            await self._round(batch)

    async def _round(self, batch: list[tuple[list[Fact], asyncio.Future]]) -> None:
        """The record is written only after the events' PubAcks, so a failure in between makes the
        provider retry; the retry is then caught by the stream's Nats-Msg-Id window (or, past it,
        republished: never lost)."""
        facts = [f for fs, _ in batch for f in fs]
        try:
            seen = await self.seen.seen(k for f in facts for k in f.keys)
            new: dict[str, Fact] = {}
            for f in facts:
                if f.event.id not in new and not any(k in seen for k in f.keys):
                    new[f.event.id] = f
            if new:
                await self.publisher.publish_many(f.event for f in new.values())
                await self.seen.remember(k for f in new.values() for k in f.keys)
        except PublishError as exc:
            for _, done in batch:
                if not done.done():
                    done.set_exception(Unavailable(str(exc)))
            return
        for fs, done in batch:
            published = sum(1 for f in fs if new.get(f.event.id) is f)
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
