"""The 7-day record of facts already published (a KV bucket whose entries expire with its TTL):
looked up with pipelined JetStream direct gets, written with pipelined, acknowledged publishes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from nats.aio.msg import Msg

from switchboard_runtime.messaging.pipeline import RequestsFailed
from switchboard_runtime.messaging.publisher import PublishError, Publisher

MISSING = {"404", "410"}
REMOVED = {"DEL", "PURGE"}


def _digest(key: str) -> str:
    return hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


class SeenFacts:
    def __init__(self, publisher: Publisher, bucket: str):
        self.publisher = publisher
        self._get = f"$JS.API.DIRECT.GET.KV_{bucket}.$KV.{bucket}."
        self._put = f"$KV.{bucket}."

    @staticmethod
    def _recorded(reply: Msg) -> bool:
        headers = reply.headers or {}
        if headers.get("Status") in MISSING:
            return False
        if headers.get("Status"):
            raise PublishError(f"the dedupe record answered {headers.get('Status')} {headers.get('Description')}")
        return headers.get("KV-Operation") not in REMOVED

    async def seen(self, keys: Iterable[str]) -> set[str]:
        """Which of the keys were recorded (raises PublishError when the record cannot be read)."""
        keys = list(dict.fromkeys(keys))
        try:
            replies = await self.publisher.requests.request_many((self._get + _digest(k), b"", None) for k in keys)
        except RequestsFailed as exc:
            raise PublishError(f"the dedupe record is not available: {exc}") from exc
        return {k for k, reply in zip(keys, replies, strict=True) if self._recorded(reply)}

    async def remember(self, keys: Iterable[str]) -> None:
        """Record the keys; returns once every write is acknowledged."""
        await self.publisher.publish_raw_many((self._put + _digest(k), b"1", None) for k in set(keys))
