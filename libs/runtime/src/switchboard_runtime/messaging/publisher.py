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

    def __init__(self, js: JetStreamContext, timeout: float = 10.0):
        self.js = js
        self.timeout = timeout

    async def publish(self, event: CloudEvent, subject: str | None = None) -> PubAck:
        return await self.js.publish(subject or subject_of(event), event.to_json_bytes(),
                                     timeout=self.timeout, headers=headers_for(event))

    async def publish_many(self, events: Iterable[CloudEvent]) -> list[PubAck]:
        """Publish pipelined (nats-py's publish_async bounds the acks outstanding); returns after every
        PubAck, and raises if any publish failed or timed out."""
        futures = [await self.js.publish_async(subject_of(e), e.to_json_bytes(), headers=headers_for(e),
                                               wait_stall=self.timeout)
                   for e in events]
        if not futures:
            return []
        try:
            return await asyncio.wait_for(asyncio.gather(*futures), timeout=self.timeout)
        finally:
            for f in futures:
                if not f.done():
                    f.cancel()
