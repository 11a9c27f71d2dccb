"""A NATS connection for one command, and its JetStream context."""

from __future__ import annotations

from contextlib import asynccontextmanager

import nats

from switchboard_runtime.messaging.bus import BusJetStream

from .config import Found


class Unreachable(Exception):
    pass


@asynccontextmanager
async def jetstream(url: Found):
    try:
        nc = await nats.connect([url.value], name="switchboard-cli", connect_timeout=5, max_reconnect_attempts=2,
                                reconnect_time_wait=1, allow_reconnect=True)
    except Exception as exc:  # noqa: BLE001 - any failure to connect is the same answer
        raise Unreachable(f"cannot reach NATS at {url.value} (from {url.source}): {exc!r}") from None
    try:
        yield BusJetStream(nc)
    finally:
        await nc.close()
