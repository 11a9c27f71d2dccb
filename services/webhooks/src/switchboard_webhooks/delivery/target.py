"""An endpoint as its deliveries see it — URL, signing keys, HTTP client — and one attempt at it:
signed (`webhook-id` is the CloudEvent's id, the same on every retry), posted, and logged."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import httpx

from switchboard_contracts.envelope import utcnow

from ..attempts import Attempt, AttemptLog
from ..domain import signing
from ..domain.outcome import Outcome
from ..endpoint_store import Keys
from .http_post import post


@dataclass(frozen=True)
class Event:
    """One stored event: its stream sequence, its CloudEvent id and type, its exact bytes (the body)."""

    sequence: int
    id: str
    type: str
    body: bytes

    @classmethod
    def of(cls, sequence: int, body: bytes) -> Event:
        doc = json.loads(body)
        return cls(sequence, str(doc["id"]), str(doc.get("type", "")), body)


@dataclass
class Target:
    endpoint_id: str
    org_id: str
    url: str
    keys: Keys
    http: httpx.AsyncClient
    log: AttemptLog
    timeout: float
    max_bytes: int

    async def attempt(self, event: Event, number: int, trigger: str, position: int | None = None,
                      final_note: str | None = None) -> Outcome:
        """POST the event once and log it; `position`: the line's new position, should this attempt end
        the event (a success; a failure only when `final_note` says the event is given up)."""
        now = utcnow()
        timestamp = int(time.time())
        headers = signing.headers(self.keys.signing(now), event.id, timestamp, event.body)
        outcome = await post(self.http, self.url, event.body, headers, timeout=self.timeout,
                             max_bytes=self.max_bytes)
        ends = outcome.kind == "succeeded" or final_note is not None
        error = outcome.error if not final_note or outcome.kind == "succeeded" else f"{outcome.error} ({final_note})"
        self.log.add(Attempt(self.endpoint_id, self.org_id, event.id, event.type, event.sequence, number, trigger,
                             outcome.status, outcome.http_status, outcome.latency_ms, error, now),
                     position if ends else None)
        return outcome
