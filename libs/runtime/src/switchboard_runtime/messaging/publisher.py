"""Publishing CloudEvents to JetStream: `Nats-Msg-Id` = event id, every publish acknowledged.

`publish_many` pipelines: it writes every message with its own reply subject under one inbox
subscription and then awaits all the PubAcks — the same protocol as nats-py's `publish_async`,
without its per-message semaphore and random token, which dominated our send path's CPU."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterable

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import ConnectionClosedError, OutboundBufferLimitError
from nats.js import JetStreamContext
from nats.js.api import PubAck
from nats.js.errors import APIError

from switchboard_contracts.envelope import CloudEvent, subject_of

CLOUDEVENTS_CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"


def headers_for(event: CloudEvent) -> dict[str, str]:
    headers = {"Nats-Msg-Id": event.id, "Content-Type": CLOUDEVENTS_CONTENT_TYPE}
    if event.traceparent:
        headers["traceparent"] = event.traceparent
    return headers


class PublishError(Exception):
    """JetStream refused a message (no stream, wrong expectation, storage full...)."""


class Publisher:
    """Publishes envelopes to the subject their type and orgid name; returns after every PubAck."""

    def __init__(self, nc: Client, js: JetStreamContext, timeout: float = 10.0):
        self.nc = nc
        self.js = js
        self.timeout = timeout
        self._inbox: str | None = None
        self._pending: dict[str, asyncio.Future] = {}
        self._counter = itertools.count()

    async def publish(self, event: CloudEvent, subject: str | None = None) -> PubAck:
        return await self.js.publish(subject or subject_of(event), event.to_json_bytes(),
                                     timeout=self.timeout, headers=headers_for(event))

    async def _ensure_inbox(self) -> str:
        if self._inbox is None:
            inbox = self.nc.new_inbox()
            await self.nc.subscribe(inbox + ".*", cb=self._on_ack, pending_msgs_limit=1_000_000,
                                    pending_bytes_limit=256 * 1024 * 1024)
            self._inbox = inbox
        return self._inbox

    async def _on_ack(self, msg: Msg) -> None:
        future = self._pending.pop(msg.subject, None)
        if future is None or future.done():
            return
        try:
            reply = json.loads(msg.data)
        except ValueError:
            future.set_exception(PublishError(f"unreadable PubAck: {msg.data[:200]!r}"))
            return
        if "error" in reply:
            future.set_exception(PublishError(reply["error"].get("description", str(reply["error"]))))
        else:
            future.set_result(PubAck(stream=reply.get("stream"), seq=reply.get("seq"),
                                     duplicate=reply.get("duplicate")))

    async def publish_many(self, events: Iterable[CloudEvent]) -> list[PubAck]:
        """Publish pipelined; returns after every PubAck, raises if any failed or timed out."""
        return await self.publish_raw_many(
            (subject_of(event), event.to_json_bytes(), headers_for(event)) for event in events)

    async def publish_raw_many(self, messages: Iterable[tuple[str, bytes, dict[str, str] | None]]
                               ) -> list[PubAck]:
        """Publish (subject, payload, headers) messages pipelined to JetStream; returns after every
        PubAck, raises PublishError if any failed or timed out."""
        inbox = await self._ensure_inbox()
        loop = asyncio.get_running_loop()
        futures, replies = [], []
        try:
            for subject, payload, headers in messages:
                reply = f"{inbox}.{next(self._counter)}"
                future = loop.create_future()
                self._pending[reply] = future
                futures.append(future)
                replies.append(reply)
                await self.nc.publish(subject, payload, reply=reply, headers=headers)
            if not futures:
                return []
            return await asyncio.wait_for(asyncio.gather(*futures), timeout=self.timeout)
        except (TimeoutError, APIError, ConnectionClosedError, OutboundBufferLimitError) as exc:
            raise PublishError(f"JetStream did not acknowledge: {exc!r}") from exc
        finally:
            for reply in replies:
                self._pending.pop(reply, None)
