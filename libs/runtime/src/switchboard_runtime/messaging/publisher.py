"""Publishing CloudEvents to JetStream: `Nats-Msg-Id` = event id, every publish acknowledged.

`publish_many` pipelines: it writes every message with its own reply subject under one inbox
subscription and then awaits all the PubAcks — the same protocol as nats-py's `publish_async`,
without its per-message semaphore and random token, which dominated our send path's CPU."""

from __future__ import annotations

import json
from collections.abc import Iterable

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import PubAck

from switchboard_contracts.envelope import CloudEvent, EncodedEvent, subject_of

from .pipeline import RequestPipeline, RequestsFailed

CLOUDEVENTS_CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"


def headers_for(event: CloudEvent | EncodedEvent) -> dict[str, str]:
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
        self.requests = RequestPipeline(nc, timeout)

    async def publish(self, event: CloudEvent | EncodedEvent, subject: str | None = None) -> PubAck:
        return await self.js.publish(subject or subject_of(event), _payload(event),
                                     timeout=self.timeout, headers=headers_for(event))

    async def publish_many(self, events: Iterable[CloudEvent | EncodedEvent]) -> list[bool]:
        """Publish pipelined; returns after every PubAck (whether each was a duplicate JetStream
        dropped), raises if any failed or timed out."""
        return await self.publish_raw_many(
            (subject_of(event), _payload(event), headers_for(event)) for event in events)

    async def publish_many_sequenced(self, events: Iterable[CloudEvent | EncodedEvent]) -> list[int]:
        """`publish_many`, returning each PubAck's stream sequence instead (a duplicate's is the
        sequence of the message stored before): what a producer records to know, later, where in
        the stream its publishes went."""
        messages = [(subject_of(event), _payload(event), headers_for(event)) for event in events]
        try:
            replies = await self.requests.request_many(messages)
        except RequestsFailed as exc:
            raise PublishError(f"JetStream did not acknowledge: {exc}") from exc
        return [_sequence(reply) for reply in replies]

    async def publish_raw_many(self, messages: Iterable[tuple[str, bytes, dict[str, str] | None]],
                               if_absent: bool = False) -> list[bool]:
        """Publish (subject, payload, headers) messages pipelined to JetStream; returns after every
        PubAck whether each was a duplicate, raises PublishError if any failed or timed out. With
        `if_absent`, each message is stored only if its subject holds none yet (a refusal for that
        reason counts as a duplicate)."""
        if if_absent:
            messages = ((subject, payload, {**(headers or {}), EXPECT_NONE: "0"})
                        for subject, payload, headers in messages)
        try:
            replies = await self.requests.request_many(messages)
        except RequestsFailed as exc:
            raise PublishError(f"JetStream did not acknowledge: {exc}") from exc
        return [_duplicate(reply, if_absent) for reply in replies]


def _payload(event: CloudEvent | EncodedEvent) -> bytes:
    return event.payload if isinstance(event, EncodedEvent) else event.to_json_bytes()


EXPECT_NONE = "Nats-Expected-Last-Subject-Sequence"
WRONG_LAST_SEQUENCE = 10071


def _sequence(msg: Msg) -> int:
    _duplicate(msg)  # raises PublishError on a refusal
    return int(json.loads(msg.data)["seq"])


def _duplicate(msg: Msg, if_absent: bool = False) -> bool:
    """Whether a PubAck (`{"stream", "seq", "duplicate"?}`) reports a duplicate; anything else is a
    refusal (PublishError)."""
    if msg.headers and msg.headers.get("Status") == "503":
        raise PublishError("no stream answers this subject (503 no responders)")
    if msg.data.startswith(b'{"stream"') and b'"error"' not in msg.data:
        return b'"duplicate":true' in msg.data
    try:
        reply = json.loads(msg.data)
    except ValueError:
        raise PublishError(f"unreadable PubAck: {msg.data[:200]!r}") from None
    error = reply.get("error") or {}
    if if_absent and error.get("err_code") == WRONG_LAST_SEQUENCE:
        return True
    if error or "stream" not in reply:
        raise PublishError(error.get("description", str(reply)))
    return bool(reply.get("duplicate"))
