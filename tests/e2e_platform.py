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


async def stored(nats_url: str, subject: str) -> list:
    """Every message stored on `subject` (wildcards allowed) in the event stream when it is called, in
    stream order: as many as the stream counts, each waited for up to REPLY (not "until a second passes
    with nothing", which a busy machine can cut short)."""
    import nats

    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream(timeout=REPLY)
        state = (await js.stream_info("SWITCHBOARD_EVENTS", subjects_filter=subject)).state
        if not sum((state.subjects or {}).values()):
            return []
        sub = await js.subscribe(subject, ordered_consumer=True, stream="SWITCHBOARD_EVENTS")
        found = [await sub.next_msg(timeout=REPLY)]
        while found[-1].metadata.num_pending:  # bounded: what was stored when it was delivered
            found.append(await sub.next_msg(timeout=REPLY))
        return found
    finally:
        await nc.close()


def stream_events(platform, subject: str) -> list[dict]:
    """Every event on `subject` (wildcards allowed) in the platform's event stream so far, as dicts."""
    import asyncio
    import json

    return [json.loads(m.data) for m in asyncio.run(stored(platform["endpoints"]["nats"], subject))]
