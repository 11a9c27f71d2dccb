"""Publishing CloudEvents to JetStream: `Nats-Msg-Id` = event id, acked, pipelined in batches."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from nats.js import JetStreamContext
from nats.js.api import PubAck

from switchboard_contracts.envelope import CloudEvent, subject_of

CLOUDEVENTS_CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"


def headers_for(event: CloudEvent) -> dict[str, str]:
    headers = {"Nats-Msg-Id": event.id, "Content-Type": CLOUDEVENTS_CONTENT_TYPE}
    if event.traceparent:
        headers["traceparent"] = event.traceparent
    return headers


class Publisher:
    """Publishes envelopes to the subject their type and orgid name; every call returns after PubAck."""

    def __init__(self, js: JetStreamContext, pipeline: int = 512, timeout: float = 10.0):
        self.js = js
        self.pipeline = pipeline
        self.timeout = timeout

    async def publish(self, event: CloudEvent, subject: str | None = None) -> PubAck:
        return await self.js.publish(subject or subject_of(event), event.to_json_bytes(),
                                     timeout=self.timeout, headers=headers_for(event))

    async def publish_many(self, events: Iterable[CloudEvent]) -> list[PubAck]:
        """Publish with up to `pipeline` acks outstanding; raises if any publish failed."""
        events = list(events)
        acks: list[PubAck] = []
        for start in range(0, len(events), self.pipeline):
            chunk = events[start:start + self.pipeline]
            acks.extend(await asyncio.gather(*(self.publish(e) for e in chunk)))
        return acks
