"""Publishing the facts of one delivery: skip those already recorded, publish the rest (each with its
PubAck), then record them; keep deliveries no sender owns on the quarantine stream."""

from __future__ import annotations

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
    def __init__(self, seen: SeenFacts, publisher: Publisher):
        self.seen, self.publisher = seen, publisher

    async def ingest(self, facts: list[Fact]) -> Outcome:
        """Publish the facts not published before. The record is written only after the events'
        PubAcks, so a failure in between makes the provider retry; the retry is then caught by the
        stream's Nats-Msg-Id window (or, past it, republished: never lost)."""
        try:
            seen = await self.seen.seen(k for f in facts for k in f.keys)
            new = {f.event.id: f for f in facts if not any(k in seen for k in f.keys)}
            if new:
                await self.publisher.publish_many(f.event for f in new.values())
                await self.seen.remember(k for f in new.values() for k in f.keys)
        except PublishError as exc:
            raise Unavailable(str(exc)) from exc
        return Outcome(published=len(new), duplicates=len(facts) - len(new))

    async def quarantine(self, provider: str, body: bytes, reason: str) -> None:
        """Keep an unroutable delivery (unverified: no sender's secret vouches for it) for operators."""
        headers = {"Nats-Msg-Id": "quarantine:" + hashlib.sha256(body).hexdigest(),
                   "Switchboard-Provider": provider, "Switchboard-Reason": reason[:500],
                   "Switchboard-Verified": "false", "Switchboard-Received-At": datetime.now(UTC).isoformat()}
        try:
            await self.publisher.publish_raw_many([(quarantine_subject(provider), body, headers)])
        except PublishError as exc:
            raise Unavailable(str(exc)) from exc
