"""Publishing the facts of one delivery, each once for as long as SWITCHBOARD_INGEST keeps it (7 days);
keeping deliveries no sender owns on the quarantine stream."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from switchboard_contracts.subjects import quarantine_subject
from switchboard_runtime.messaging.publisher import CLOUDEVENTS_CONTENT_TYPE, PublishError, Publisher

from .domain.facts import Fact


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
    def __init__(self, publisher: Publisher):
        self.publisher = publisher

    async def ingest(self, facts: list[Fact]) -> Outcome:
        """Publish every fact on its own subject, stored only if that subject is empty: one atomic
        step per fact, acknowledged before we answer. A repeat (this delivery again, a minute or six
        days later, or the same fact in another delivery) is refused by JetStream and counted as a
        duplicate; a failure means 503 and a retry, which stores what is missing and nothing twice."""
        try:
            duplicates = await self.publisher.publish_raw_many(
                ((f.subject, f.payload, {"Nats-Msg-Id": f.id, "Content-Type": CLOUDEVENTS_CONTENT_TYPE})
                 for f in facts), if_absent=True)
        except PublishError as exc:
            raise Unavailable(str(exc)) from exc
        repeated = sum(duplicates)
        return Outcome(published=len(facts) - repeated, duplicates=repeated)

    async def quarantine(self, provider: str, body: bytes, reason: str) -> None:
        """Keep an unroutable delivery (unverified: no sender's secret vouches for it) for operators."""
        headers = {"Nats-Msg-Id": "quarantine:" + hashlib.sha256(body).hexdigest(),
                   "Switchboard-Provider": provider, "Switchboard-Reason": reason[:500],
                   "Switchboard-Verified": "false", "Switchboard-Received-At": datetime.now(UTC).isoformat()}
        try:
            await self.publisher.publish_raw_many([(quarantine_subject(provider), body, headers)])
        except PublishError as exc:
            raise Unavailable(str(exc)) from exc
