"""Helpers for the end-to-end tests (the `platform` fixture is in conftest.py)."""

from __future__ import annotations

import time

import httpx

from switchboard_devkit.testing.patience import REPLY


def api(platform) -> httpx.Client:
    return httpx.Client(base_url=platform["base"], headers={"X-API-Key": platform["key"]}, timeout=REPLY)


def poll(fn, predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if predicate(value):
            return value
        assert time.monotonic() < deadline, f"timed out; last value {value}"
        time.sleep(0.1)


def stream_events(platform, subject: str) -> list[dict]:
    """Every event on `subject` (wildcards allowed) in the platform's event stream so far, as dicts."""
    import asyncio
    import json

    import nats

    async def read() -> list[dict]:
        nc = await nats.connect(platform["endpoints"]["nats"])
        try:
            sub = await nc.jetstream().subscribe(subject, ordered_consumer=True, stream="SWITCHBOARD_EVENTS")
            found = []
            for _ in range(100_000):  # bounded: stops at the first second with nothing more
                try:
                    found.append(json.loads((await sub.next_msg(timeout=1)).data))
                except nats.errors.TimeoutError:
                    break
            return found
        finally:
            await nc.close()

    return asyncio.run(read())
