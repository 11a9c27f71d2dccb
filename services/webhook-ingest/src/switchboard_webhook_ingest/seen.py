"""The 7-day record of facts already published (a KV bucket whose entries expire with its TTL):
looked up with batched JetStream direct gets (`multi_last`: one request for up to 1,000 keys, one reply
per key found), written with pipelined, acknowledged publishes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from nats.aio.msg import Msg

from switchboard_runtime.messaging.pipeline import RequestsFailed
from switchboard_runtime.messaging.publisher import PublishError, Publisher

END = {"204", "404"}  # end of batch; no results
REMOVED = {"DEL", "PURGE"}
CHUNK = 1000


def _digest(key: str) -> str:
    return hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


class SeenFacts:
    def __init__(self, publisher: Publisher, bucket: str):
        self.publisher = publisher
        self._get = f"$JS.API.DIRECT.GET.KV_{bucket}"
        self._put = f"$KV.{bucket}."

    def _request(self, digests: list[str]) -> tuple[str, bytes, None]:
        subjects = [self._put + d for d in digests]
        return self._get, json.dumps({"multi_last": subjects, "batch": len(subjects)}).encode(), None

    @staticmethod
    def _found(replies: list[Msg]) -> set[str]:
        """The record subjects present in one batched reply."""
        found = set()
        for msg in replies:
            headers = msg.headers or {}
            status = headers.get("Status")
            if status is None:
                if headers.get("KV-Operation") not in REMOVED:
                    found.add(headers.get("Nats-Subject"))
            elif status not in END:
                raise PublishError(f"the dedupe record answered {status} {headers.get('Description')}")
        return found

    async def seen(self, keys: Iterable[str]) -> set[str]:
        """Which of the keys were recorded (raises PublishError when the record cannot be read)."""
        digests = {_digest(k): k for k in keys}
        if not digests:
            return set()
        names = list(digests)
        try:
            replies = await self.publisher.requests.request_many(
                (self._request(names[i:i + CHUNK]) for i in range(0, len(names), CHUNK)), streamed=True)
        except RequestsFailed as exc:
            raise PublishError(f"the dedupe record is not available: {exc}") from exc
        found = set().union(*(self._found(r) for r in replies))
        return {k for d, k in digests.items() if self._put + d in found}

    async def remember(self, keys: Iterable[str]) -> None:
        """Record the keys; returns once every write is acknowledged."""
        await self.publisher.publish_raw_many((self._put + _digest(k), b"1", None) for k in set(keys))
