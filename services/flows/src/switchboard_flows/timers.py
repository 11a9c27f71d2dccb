"""Durable timers on JetStream message scheduling (stream SWITCHBOARD_TIMERS): a timer is a schedule
message on `sb.sched.flows.<org>.<key>` that the server publishes on `sb.timer.flows.<org>.<key>` at
its time, also after a restart of anyone. One schedule per key (the stream keeps one message per
subject): setting a key's timer again replaces it. Chosen over a timer table polled by the service:
no poller, no lock, exactly one replica gets each firing (a work-queue consumer), and the server keeps
time while every replica is down. `@at` has second resolution: times are rounded up, never early."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

from nats.js import JetStreamContext

from switchboard_contracts.subjects import schedule_subject, timer_subject

SERVICE = "flows"


def at_header(when: datetime) -> str:
    """`@at <RFC 3339 UTC>`, rounded up to the second."""
    seconds = math.ceil(when.astimezone(UTC).timestamp())
    return "@at " + datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Timers:
    def __init__(self, js: JetStreamContext, timeout: float = 10.0):
        self.js, self.timeout = js, timeout

    async def set(self, org_id: str, key: str, when: datetime, payload: dict, msg_id: str) -> None:
        """Fire `payload` at `when` (now, if it is past) on the key's timer subject."""
        headers = {"Nats-Schedule": at_header(when), "Nats-Schedule-Target": timer_subject(SERVICE, org_id, key),
                   "Nats-Msg-Id": msg_id}
        await self.js.publish(schedule_subject(SERVICE, org_id, key), json.dumps(payload).encode(),
                              headers=headers, timeout=self.timeout)


def fired(data: bytes) -> dict:
    """A fired timer's payload."""
    return json.loads(data)
