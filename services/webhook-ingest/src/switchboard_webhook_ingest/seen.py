"""The 7-day record of facts already published (a KV bucket whose entries expire with its TTL):
looked up with JetStream direct gets, written with pipelined, acknowledged publishes."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterable

from nats.aio.client import Client
from nats.errors import Error as NatsError

from switchboard_runtime.messaging.publisher import PublishError, Publisher

MISSING = {"404", "410"}
REMOVED = {"DEL", "PURGE"}


def _digest(key: str) -> str:
    return hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


class SeenFacts:
    def __init__(self, nc: Client, publisher: Publisher, bucket: str, timeout: float):
        self.nc, self.publisher, self.timeout = nc, publisher, timeout
        self._get = f"$JS.API.DIRECT.GET.KV_{bucket}.$KV.{bucket}."
        self._put = f"$KV.{bucket}."

    async def _seen(self, digest: str) -> bool:
        try:
            reply = await self.nc.request(self._get + digest, b"", timeout=self.timeout)
        except (TimeoutError, NatsError) as exc:
            raise PublishError(f"the dedupe record is not available: {exc!r}") from exc
        headers = reply.headers or {}
        if headers.get("Status") in MISSING:
            return False
        if headers.get("Status"):
            raise PublishError(f"the dedupe record answered {headers.get('Status')} {headers.get('Description')}")
        return headers.get("KV-Operation") not in REMOVED

    async def seen(self, keys: Iterable[str]) -> set[str]:
        """Which of the keys were recorded (raises PublishError when the record cannot be read)."""
        keys = list(dict.fromkeys(keys))
        if not keys:
            return set()
        flags = await asyncio.gather(*(self._seen(_digest(k)) for k in keys))
        return {k for k, flag in zip(keys, flags, strict=True) if flag}

    async def remember(self, keys: Iterable[str]) -> None:
        """Record the keys; returns once every write is acknowledged."""
        await self.publisher.publish_raw_many((self._put + _digest(k), b"1", None) for k in set(keys))
